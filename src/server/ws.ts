/**
 * WebSockets on the node server's 'upgrade' event (ws, noServer):
 *   /v1/streams/:id/ws     commentary messages (JSON text); accepts ClientMessage from the viewer
 *   /v1/streams/:id/video  binary JPEG frames (see VIDEO_FRAME_LAYOUT), nothing accepted
 * Refusals (bad path, token, unknown stream) are HTTP responses written on the socket, mapped by
 * errors.ts like every other error.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { SightlineError } from '../errors.js';
import { grants, presentedToken, requireAccess, type AuthOptions } from './auth.js';
import { WS_CLOSE_NORMAL, WS_CLOSE_SLOW_CONSUMER, WS_CLOSE_SLOW_CONSUMER_REASON, toErrorResponse, toSightlineError } from './errors.js';
import type { ViewerSink } from './fanout.js';
import type { Logger } from './logger.js';
import { ClientMessage, ResumeQuery, describeZodError } from './schemas.js';
import type { ManagedStream, StreamManager } from './streams.js';
import type { VideoSink } from './video.js';
import { textFrame } from './ws-frame.js';

/** Largest message accepted from a viewer (bytes); bigger ones close the socket with 1009. */
export const DEFAULT_WS_MAX_PAYLOAD_BYTES = 4096;
/** After a slow-consumer close, the socket is cut if the close handshake has not finished by then. */
export const SLOW_CLOSE_GRACE_MS = 2000;
/** Default WebSocket connections (commentary + video) one server accepts at once. */
export const DEFAULT_MAX_WS_CONNECTIONS = 20_000;
/** Default heartbeat: a ping every this often; a socket that has not answered the previous one is cut. */
export const DEFAULT_HEARTBEAT_MS = 30_000;

export interface WebSocketDeps {
  manager: StreamManager;
  auth: AuthOptions;
  logger: Logger;
  maxPayloadBytes?: number;
  maxConnections?: number;
  heartbeatMs?: number;
}

const PATH = /^\/v1\/streams\/([a-z0-9_-]{1,64})\/(ws|video)$/;

function refuse(socket: Duplex, err: unknown): void {
  const { status, body } = toErrorResponse(err);
  const json = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\nConnection: close\r\n\r\n${json}`);
}

export function attachWebSockets(server: Server, deps: WebSocketDeps): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: deps.maxPayloadBytes ?? DEFAULT_WS_MAX_PAYLOAD_BYTES });

  // Heartbeat: peers that vanished without a FIN stop answering pings and are cut.
  const alive = new WeakMap<WebSocket, boolean>();
  const heartbeat = setInterval(() => {
    for (const client of wss.clients) {
      if (!alive.get(client)) {
        client.terminate();
        continue;
      }
      alive.set(client, false);
      client.ping();
    }
  }, deps.heartbeatMs ?? DEFAULT_HEARTBEAT_MS);
  heartbeat.unref();

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const match = PATH.exec(url.pathname);
      if (!match) throw new SightlineError('not_found', `no WebSocket endpoint at ${url.pathname}`);
      const token = presentedToken(req.headers.authorization, url);
      requireAccess(deps.auth, 'view', token);
      const stream = deps.manager.get(match[1]);
      const maxConnections = deps.maxConnections ?? DEFAULT_MAX_WS_CONNECTIONS;
      if (wss.clients.size >= maxConnections) throw new SightlineError('rate_limited', `server is at its limit of ${maxConnections} WebSocket viewers`);
      const canWrite = grants(deps.auth, 'write', token);
      const resume = ResumeQuery.parse({ after: url.searchParams.get('after') ?? undefined, since: url.searchParams.get('since') ?? undefined });
      wss.handleUpgrade(req, socket, head, (ws) => {
        alive.set(ws, true);
        ws.on('pong', () => alive.set(ws, true));
        if (match[2] === 'ws') onCommentarySocket(ws, socket, stream, canWrite, resume, deps);
        else onVideoSocket(ws, stream);
      });
    } catch (err) {
      refuse(socket, err);
    }
  });

  return {
    close() {
      clearInterval(heartbeat);
      for (const client of wss.clients) client.terminate();
      wss.close();
    },
  };
}

/**
 * Commentary viewers. Messages are written as pre-built frames straight to the upgraded socket
 * (the one ws was handed; permessage-deflate is off, so ws never holds frames back and ordering
 * with its own control frames is kept). `ws.bufferedAmount` still counts those bytes.
 */
function onCommentarySocket(ws: WebSocket, socket: Duplex, stream: ManagedStream, canWrite: boolean, resume: { after: number; since?: number }, deps: WebSocketDeps): void {
  const id = stream.meta.id;
  const sink: ViewerSink = {
    queuedBytes: () => ws.bufferedAmount,
    write(out) {
      if (ws.readyState !== WebSocket.OPEN) return;
      out.wsFrame ??= textFrame(out.json);
      socket.write(out.wsFrame);
    },
    closeSlow() {
      ws.close(WS_CLOSE_SLOW_CONSUMER, WS_CLOSE_SLOW_CONSUMER_REASON);
      setTimeout(() => ws.terminate(), SLOW_CLOSE_GRACE_MS).unref();
    },
    closeNormal: (failure) => ws.close(failure?.code ?? WS_CLOSE_NORMAL, failure?.reason ?? 'stream ended'),
  };
  const replyError = (err: unknown) => {
    const e = toSightlineError(err);
    stream.hub.sendTo(sink, { type: 'error', stream: id, seq: -1, time: stream.stats?.time ?? 0, wallMs: Date.now(), code: e.code, message: e.message });
  };
  ws.on('error', () => ws.terminate());
  ws.on('close', () => stream.hub.detach(sink));
  ws.on('message', (data, isBinary) => {
    try {
      if (isBinary) throw new SightlineError('bad_input', 'messages must be JSON text');
      let raw: unknown;
      try {
        raw = JSON.parse(data.toString());
      } catch {
        throw new SightlineError('bad_input', 'message is not valid JSON');
      }
      const parsed = ClientMessage.safeParse(raw);
      if (!parsed.success) throw new SightlineError('bad_input', `invalid message: ${describeZodError(parsed.error)}`);
      const msg = parsed.data;
      if (msg.type === 'ping') {
        stream.hub.sendTo(sink, { type: 'pong', stream: id, wallMs: Date.now() });
        return;
      }
      if (!canWrite) throw new SightlineError('unauthorized', 'set_prompt needs the write token');
      if (!stream.runner?.setPrompt || stream.hub.isEnded) throw new SightlineError('bad_input', `stream "${id}" does not accept a new prompt`);
      stream.runner.setPrompt(msg.prompt);
      deps.logger.info('prompt changed', { stream: id });
    } catch (err) {
      replyError(err);
    }
  });
  stream.hub.attach(sink, (historyCount) => ({ type: 'hello', stream: id, state: stream.state, historyCount }), resume.after, resume.since);
}

function onVideoSocket(ws: WebSocket, stream: ManagedStream): void {
  const sink: VideoSink = {
    queuedBytes: () => ws.bufferedAmount,
    write: (data) => ws.send(data, { binary: true }),
    closeNormal: () => ws.close(WS_CLOSE_NORMAL, 'stream ended'),
  };
  ws.on('error', () => ws.terminate());
  ws.on('close', () => stream.video.detach(sink));
  ws.on('message', () => {
    // The video socket is send-only; inbound messages are ignored.
  });
  stream.video.attach(sink);
}
