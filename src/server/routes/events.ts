/**
 * GET /v1/streams/:id/events: Server-Sent Events. Each message is `id: <seq>\ndata: <json>\n\n`,
 * framed once per message and shared by every SSE viewer. A reconnecting EventSource sends
 * Last-Event-ID (or a client passes ?after=<seq>) and gets only the history it has not seen. The outbound queue is the response's
 * `writableLength`; when it passes the bound the response is destroyed (slow consumer).
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { SightlineError } from '../../errors.js';
import { authorize, type AppEnv, type ServerParts } from '../context.js';
import type { Outbound, ViewerSink } from '../fanout.js';
import { ResumeQuery, streamIdParam } from '../schemas.js';

/** Comment line sent on idle connections so proxies keep them open. */
export const SSE_KEEPALIVE_MS = 15_000;

/** `id: <seq>` lets EventSource resume with Last-Event-ID; hello/replies carry no id. */
function sseFrame(out: Outbound): Buffer {
  const cursor = out.sseId ?? out.seq;
  const id = cursor === undefined ? '' : `id: ${cursor}\n`;
  return Buffer.concat([Buffer.from(`${id}data: `), out.json, Buffer.from('\n\n')]);
}

/** Default SSE connections one server keeps open at once. */
export const DEFAULT_MAX_SSE_CONNECTIONS = 10_000;

export function eventRoutes(parts: ServerParts, maxConnections = DEFAULT_MAX_SSE_CONNECTIONS): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  let open = 0;
  app.get('/:id/events', (c) => {
    authorize(c, parts, 'view');
    const stream = parts.manager.get(streamIdParam(c.req.param('id')));
    if (open >= maxConnections) throw new SightlineError('rate_limited', `server is at its limit of ${maxConnections} SSE viewers`);
    // A gateway's ids are stream seconds (FanoutOptions.sseIdBySecond): Last-Event-ID is then a `since`.
    const lastId = c.req.header('last-event-id');
    const resume = parts.resumeBySecond
      ? ResumeQuery.parse({ after: c.req.query('after'), since: lastId ?? c.req.query('since') })
      : ResumeQuery.parse({ after: lastId ?? c.req.query('after'), since: c.req.query('since') });
    const res = c.env.outgoing;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const sink: ViewerSink = {
      queuedBytes: () => res.writableLength,
      write(out) {
        out.sseFrame ??= sseFrame(out);
        res.write(out.sseFrame);
      },
      closeSlow: () => res.destroy(),
      closeNormal: () => res.end(),
    };
    const keepalive = setInterval(() => {
      if (res.writableLength === 0) res.write(': keepalive\n\n');
    }, SSE_KEEPALIVE_MS);
    keepalive.unref();
    open++;
    res.on('close', () => {
      open--;
      clearInterval(keepalive);
      stream.hub.detach(sink);
    });
    stream.hub.attach(sink, (historyCount) => ({ type: 'hello', stream: stream.meta.id, state: stream.state, historyCount }), resume.after, resume.since);
    return RESPONSE_ALREADY_SENT;
  });
  return app;
}
