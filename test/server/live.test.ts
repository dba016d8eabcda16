/** WebSocket and SSE viewers with real clients (ws package, fetch streaming). */
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WS_CLOSE_SLOW_CONSUMER } from '../../src/server/errors.js';
import { postJson, startServer, waitFor, wsClient } from './helpers.js';

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A stream whose runner only emits what the test tells it to. */
async function manualStream(overrides: Parameters<typeof startServer>[0] = {}) {
  server = await startServer(overrides, { intervalMs: 3_600_000 });
  const res = await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
  const { id } = (await res.json()) as { id: string };
  const runner = server.runners[0];
  const say = (t: number, text = `second ${t}`) => runner.emitEvent({ type: 'commentary', stream: id, start: t, end: t + 1, text, tokens: 2, latencyMs: 9 });
  const ws = (query = '') => wsClient(`${server!.url.replace('http', 'ws')}/v1/streams/${id}/ws${query}`);
  return { id, runner, say, ws };
}

/** Reads SSE `data:` messages from a fetch body. */
function sseClient(url: string, init: RequestInit = {}) {
  const messages: any[] = [];
  const raw: string[] = [];
  const controller = new AbortController();
  const done = (async () => {
    const res = await fetch(url, { ...init, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`SSE status ${res.status}`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let at;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          for (const line of block.split('\n')) {
            if (line.startsWith('data: ')) {
              raw.push(line.slice(6));
              messages.push(JSON.parse(line.slice(6)));
            }
          }
        }
      }
    } catch (err) {
      if ((err as Error).name !== 'AbortError') throw err;
    }
  })();
  return { messages, raw, done, close: () => controller.abort() };
}

describe('WebSocket viewers', () => {
  it('a late joiner gets hello, the history, then live messages in order', async () => {
    const { say, ws } = await manualStream();
    for (let t = 0; t < 5; t++) say(t);
    const client = ws();
    await client.opened;
    await waitFor(() => client.messages.length >= 6, 2000, 'history');
    for (let t = 5; t < 10; t++) say(t);
    await waitFor(() => client.messages.length >= 11, 2000, 'live');
    expect(client.messages[0]).toMatchObject({ type: 'hello', historyCount: 5, state: 'live' });
    const commentary = client.messages.slice(1);
    expect(commentary.map((m) => m.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(commentary.map((m) => m.time)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(commentary.every((m) => m.stream === client.messages[0].stream && typeof m.wallMs === 'number')).toBe(true);
    client.ws.close();
  });

  it('bounds the history to the configured size', async () => {
    const { say, ws } = await manualStream({ fanout: { historySize: 4 } });
    for (let t = 0; t < 20; t++) say(t);
    const client = ws();
    await waitFor(() => client.messages.length >= 5, 2000, 'history');
    expect(client.messages[0].historyCount).toBe(4);
    expect(client.messages.slice(1).map((m) => m.start)).toEqual([16, 17, 18, 19]);
    client.ws.close();
  });

  it('a reconnecting client gets the history again and can skip what it saw by seq', async () => {
    const { say, ws } = await manualStream();
    say(0);
    say(1);
    const first = ws();
    await waitFor(() => first.messages.length >= 3, 2000, 'first');
    first.ws.close();
    await first.closed;
    say(2);
    say(3);
    const second = ws();
    await waitFor(() => second.messages.length >= 5, 2000, 'second');
    const lastSeen = Math.max(...first.messages.filter((m) => m.seq !== undefined).map((m) => m.seq));
    const fresh = second.messages.filter((m) => m.seq > lastSeen).map((m) => m.text);
    expect(fresh).toEqual(['second 2', 'second 3']);
    second.ws.close();
  });

  it('resumes after a given seq (?after=) without repeating what the client has', async () => {
    const { say, ws } = await manualStream();
    for (let t = 0; t < 4; t++) say(t);
    const client = ws('?after=1');
    await waitFor(() => client.messages.length >= 3, 2000, 'history');
    expect(client.messages[0].historyCount).toBe(2);
    expect(client.messages.slice(1).map((m) => m.seq)).toEqual([2, 3]);
    client.ws.close();
    const bad = await fetch(`${server!.url}/v1/streams/${server!.manager.list()[0].meta.id}/events?after=soon`);
    expect(bad.status).toBe(400);
  });

  it('drops a client that stops reading with close 4008; the others get everything', async () => {
    // Viewers each message was handed to, one entry per publish, recorded when the broadcast completes.
    const handedTo: number[] = [];
    const { say, ws } = await manualStream({ fanout: { maxQueueBytes: 64 * 1024, onBroadcastDone: (_ms, viewers) => handedTo.push(viewers) } });
    const slow = ws();
    const fast = ws();
    await Promise.all([slow.opened, fast.opened]);
    // Stop reading on the slow client: the kernel buffers fill, then the server-side queue.
    const socket = (slow.ws as unknown as { _socket: import('node:net').Socket })._socket;
    socket.pause();
    const stream = server!.manager.list()[0];
    const text = 'x'.repeat(16 * 1024);
    let sent = 0;
    while (stream.hub.viewerCount === 2 && sent < 4000) {
      const before = handedTo.length;
      for (let i = 0; i < 50; i++) say(sent++, text);
      // Publishing never waits on the stalled client: each of the 50 messages was handed to every viewer
      // (queued for the stalled one, or that viewer dropped) before its publish call returned.
      expect(handedTo.length - before).toBe(50);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(stream.hub.viewerCount).toBe(1);
    expect(handedTo.at(-1)).toBe(1);
    socket.resume();
    expect((await slow.closed).code).toBe(WS_CLOSE_SLOW_CONSUMER);
    await waitFor(() => fast.messages.length >= sent + 1, 10_000, 'fast client to get all');
    expect(fast.messages.slice(1).map((m) => m.seq)).toEqual([...Array(sent).keys()]);
    const metrics = await (await fetch(`${server!.url}/metrics`)).text();
    expect(metrics).toMatch(/sightline_slow_viewers_dropped_total 1/);
    fast.ws.close();
  });

  it('answers ping, applies set_prompt, and answers malformed messages with an error that changes nothing', async () => {
    const { runner, ws } = await manualStream();
    const client = ws();
    await client.opened;
    const send = (data: string | Buffer) => (client.ws as WebSocket).send(data);
    send('{"type":"ping"}');
    send('not json');
    send('{"type":"set_prompt"}');
    send('{"type":"reboot"}');
    send('{"type":"set_prompt","prompt":"x","extra":1}');
    send(Buffer.from([1, 2, 3]));
    send('{"type":"set_prompt","prompt":"focus on the goalkeeper"}');
    send('{"type":"ping"}');
    await waitFor(() => client.messages.filter((m) => m.type === 'pong').length === 2, 2000, 'second pong');
    const replies = client.messages.slice(1);
    expect(replies.map((m) => m.type)).toEqual(['pong', 'error', 'error', 'error', 'error', 'error', 'pong']);
    for (const e of replies.filter((m) => m.type === 'error')) {
      expect(e.code).toBe('bad_input');
      expect(e.message.length).toBeGreaterThan(5);
      expect(e.seq).toBe(-1);
    }
    expect(runner.prompts).toEqual(['focus on the goalkeeper']);
    expect(client.ws.readyState).toBe(1);
    client.ws.close();
  });

  it('sends end and closes normally when the stream stops; late joiners get history then close', async () => {
    const { id, say, ws } = await manualStream();
    say(0);
    const client = ws();
    await waitFor(() => client.messages.length >= 2, 2000, 'history');
    await fetch(`${server!.url}/v1/streams/${id}`, { method: 'DELETE' });
    expect((await client.closed).code).toBe(1000);
    expect(client.messages.at(-1)).toMatchObject({ type: 'end', stream: id });
    const late = ws();
    expect((await late.closed).code).toBe(1000);
    expect(late.messages.map((m) => m.type)).toEqual(['hello', 'commentary', 'end']);
  });

  it('closes viewers of a failed stream with the error close code (4000 + HTTP status)', async () => {
    const { id, runner, ws } = await manualStream();
    const client = ws();
    await client.opened;
    runner.emitEvent({ type: 'error', stream: id, code: 'source_unreachable', message: 'source "rtsp://cam/x": connection refused' });
    runner.emitEvent({ type: 'status', stream: id, state: 'failed', time: 3, ingestFps: 0, drops: 0, lagSec: 0, stepLatencyMs: 0, cacheBytes: 0, skippedSeconds: 0 });
    runner.emitEvent({ type: 'end', stream: id });
    const closed = await client.closed;
    expect(closed).toEqual({ code: 4502, reason: 'source "rtsp://cam/x": connection refused' });
    expect(client.messages.map((m) => m.type)).toEqual(['hello', 'error', 'status', 'end']);
    expect(((await (await fetch(`${server!.url}/v1/streams/${id}`)).json()) as any).state).toBe('failed');
  });

  it('streams JPEG preview frames with their stream time on the video socket', async () => {
    server = await startServer({}, { intervalMs: 50 });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    const { default: WebSocketCtor } = await import('ws');
    const video = new WebSocketCtor(`${server.url.replace('http', 'ws')}/v1/streams/${id}/video`);
    const frames: { pts: number; jpeg: Buffer }[] = [];
    video.on('message', (data: Buffer) => frames.push({ pts: data.readDoubleLE(0), jpeg: data.subarray(16) }));
    await waitFor(() => frames.length >= 4, 5000, 'frames');
    video.close();
    expect(frames[0].jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    for (let i = 1; i < frames.length; i++) expect(frames[i].pts).toBeGreaterThan(frames[i - 1].pts);
  });
});

describe('SSE viewers', () => {
  it('get the same serialized messages as WebSocket viewers: history then live, in order', async () => {
    const { id, say, ws } = await manualStream();
    say(0);
    say(1);
    const sse = sseClient(`${server!.url}/v1/streams/${id}/events`);
    const client = ws();
    await waitFor(() => sse.messages.length >= 3 && client.messages.length >= 3, 2000, 'history');
    say(2);
    await waitFor(() => sse.messages.length >= 4 && client.messages.length >= 4, 2000, 'live');
    expect(sse.messages[0]).toMatchObject({ type: 'hello', historyCount: 2 });
    expect(sse.messages.slice(1).map((m) => m.seq)).toEqual([0, 1, 2]);
    // Byte-identical payloads on both transports (serialized once).
    const wsRaw = client.messages.slice(1).map((m) => JSON.stringify(m));
    expect(sse.raw.slice(1)).toEqual(wsRaw);
    sse.close();
    await sse.done;
    await waitFor(() => server!.manager.list()[0].hub.viewerCount === 1, 2000, 'SSE viewer detached');
    client.ws.close();
  });

  it('frames each event with its seq as id and resumes from Last-Event-ID', async () => {
    const { id, say } = await manualStream();
    for (let t = 0; t < 3; t++) say(t);
    const res = await fetch(`${server!.url}/v1/streams/${id}/events`, { headers: { 'last-event-id': '0' } });
    const reader = res.body!.getReader();
    let text = '';
    while ((text.match(/\n\n/g) ?? []).length < 3) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const events = text.split('\n\n').filter(Boolean);
    expect(events[0]).toMatch(/^data: \{"type":"hello".*"historyCount":2\}$/);
    expect(events[1]).toMatch(/^id: 1\ndata: \{"type":"commentary".*"seq":1,/);
    expect(events[2]).toMatch(/^id: 2\ndata: /);
  });

  it('an SSE client that stops reading is cut off at the queue bound', async () => {
    const { id, say } = await manualStream({ fanout: { maxQueueBytes: 64 * 1024 } });
    const net = await import('node:net');
    const url = new URL(server!.url);
    const socket = net.connect(Number(url.port), url.hostname);
    await new Promise((r) => socket.once('connect', r));
    socket.write(`GET /v1/streams/${id}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(() => server!.manager.list()[0].hub.viewerCount === 1, 2000, 'SSE viewer attached');
    socket.pause();
    const hub = server!.manager.list()[0].hub;
    const text = 'y'.repeat(16 * 1024);
    for (let sent = 0; hub.viewerCount === 1 && sent < 4000; ) {
      for (let i = 0; i < 50; i++) say(sent++, text);
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(hub.viewerCount).toBe(0);
    socket.destroy();
  });
});
