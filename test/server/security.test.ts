/** Security rules through the real HTTP/WebSocket API. Denied sources never reach the factory. */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { postJson, startServer, tempDir, waitFor, wsClient } from './helpers.js';

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function errorOf(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  return { status: res.status, ...body.error };
}

async function expectNothingChanged(s: Server): Promise<void> {
  expect(s.calls).toEqual([]);
  expect(((await (await fetch(`${s.url}/v1/streams`, { headers: { authorization: 'Bearer w' } })).json()) as any).streams).toEqual([]);
}

/** Upgrade status the server answered with (or 101). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => undefined);
  });
}

describe('bearer tokens', () => {
  it('guard writes and viewing (header or ?token=), including WebSocket and SSE; health stays open', async () => {
    server = await startServer({ auth: { writeToken: 'w', viewToken: 'v' } }, { intervalMs: 3_600_000 });
    const base = server.url;
    expect((await errorOf(await postJson(base, '/v1/streams', { source: 'match.mp4' }))).status).toBe(401);
    expect((await errorOf(await postJson(base, '/v1/streams', { source: 'match.mp4' }, { authorization: 'Bearer nope' }))).code).toBe('unauthorized');
    expect((await postJson(base, '/v1/streams', { source: 'match.mp4' }, { authorization: 'Bearer v' })).status).toBe(401);
    await expectNothingChanged(server);
    const created = await postJson(base, '/v1/streams', { source: 'match.mp4' }, { authorization: 'Bearer w' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };

    expect((await fetch(`${base}/v1/streams`)).status).toBe(401);
    expect((await fetch(`${base}/v1/streams/${id}/commentary.vtt`)).status).toBe(401);
    expect((await fetch(`${base}/v1/streams?token=v`)).status).toBe(200);
    expect((await fetch(`${base}/v1/streams`, { headers: { authorization: 'Bearer v' } })).status).toBe(200);
    expect((await fetch(`${base}/v1/streams/${id}/events`)).status).toBe(401);
    const sse = await fetch(`${base}/v1/streams/${id}/events?token=v`);
    expect(sse.status).toBe(200);
    await sse.body?.cancel();
    expect((await fetch(`${base}/v1/streams/${id}`, { method: 'DELETE', headers: { authorization: 'Bearer v' } })).status).toBe(401);

    const wsBase = `${base.replace('http', 'ws')}/v1/streams/${id}`;
    expect(await upgradeStatus(`${wsBase}/ws`)).toBe(401);
    expect(await upgradeStatus(`${wsBase}/video?token=nope`)).toBe(401);
    expect(await upgradeStatus(`${wsBase}/ws`, { authorization: 'Bearer v' })).toBe(101);
    expect(await upgradeStatus(`${wsBase}/ws?token=v`)).toBe(101);

    // A viewer with the view token cannot change the prompt.
    const viewer = wsClient(`${wsBase}/ws?token=v`);
    await viewer.opened;
    viewer.ws.send(JSON.stringify({ type: 'set_prompt', prompt: 'x' }));
    await waitFor(() => viewer.messages.find((m) => m.type === 'error'), 2000, 'error');
    expect(viewer.messages.find((m) => m.type === 'error').code).toBe('unauthorized');
    expect(server.runners[0].prompts).toEqual([]);
    viewer.ws.close();

    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/metrics`)).status).toBe(200);
  });
});

describe('source policy through the API', () => {
  it.each([
    ['rtsp://10.0.0.1/live', 'forbidden'],
    ['http://169.254.169.254/latest/meta-data/', 'forbidden'],
    ['rtmp://192.168.1.1/app', 'forbidden'],
    ['https://[fe80::1]/live.m3u8', 'forbidden'],
    ['http://localhost:1/x', 'forbidden'],
    ['gopher://example.com/', 'source_unknown_protocol'],
    ['../../../../etc/passwd', 'forbidden'],
    ['/etc/passwd', 'forbidden'],
  ])('%s -> %s, factory never called', async (source, code) => {
    // Loopback NOT allowed here: localhost resolves to 127.0.0.1 / ::1 and is denied.
    server = await startServer({ auth: { writeToken: 'w' }, policy: { fileRoots: [tempDir()] } });
    const res = await postJson(server.url, '/v1/streams', { source }, { authorization: 'Bearer w' });
    const err = await errorOf(res);
    expect(err.code).toBe(code);
    expect(err.message).toContain(source.split('/')[0]);
    await expectNothingChanged(server);
  });

  it('refuses a symlink that escapes the file root', async () => {
    server = await startServer({ auth: { writeToken: 'w' } });
    const outside = tempDir('sightline-outside-');
    fs.writeFileSync(path.join(outside, 'secret.mp4'), 'x');
    fs.symlinkSync(path.join(outside, 'secret.mp4'), path.join(server.roots, 'link.mp4'));
    const err = await errorOf(await postJson(server.url, '/v1/streams', { source: 'link.mp4' }, { authorization: 'Bearer w' }));
    expect(err).toMatchObject({ status: 403, code: 'forbidden' });
    await expectNothingChanged(server);
  });
});

describe('malformed requests', () => {
  it.each([
    ['malformed JSON', '{"source": "match.mp4"', 'application/json', 400],
    ['not JSON content type', 'source=match.mp4', 'application/x-www-form-urlencoded', 400],
    ['missing source', '{}', 'application/json', 400],
    ['unknown field', '{"source":"match.mp4","admin":true}', 'application/json', 400],
    ['negative fps', '{"source":"match.mp4","fps":-2}', 'application/json', 400],
    ['fps as string', '{"source":"match.mp4","fps":"2"}', 'application/json', 400],
    ['array body', '[1,2]', 'application/json', 400],
    ['oversized body', JSON.stringify({ source: 'match.mp4', prompt: 'p'.repeat(17 * 1024) }), 'application/json', 413],
  ])('%s -> one JSON error and nothing changes', async (_name, body, type, status) => {
    server = await startServer();
    const res = await fetch(`${server.url}/v1/streams`, { method: 'POST', headers: { 'content-type': type }, body });
    const err = await errorOf(res);
    expect(err.status).toBe(status);
    expect(err.code).toBe(status === 413 ? 'too_large' : 'bad_input');
    expect(err.message.length).toBeGreaterThan(5);
    await expectNothingChanged(server);
  });

  it('limits a chunked body without Content-Length too', async () => {
    server = await startServer();
    const big = new TextEncoder().encode(JSON.stringify({ source: 'match.mp4', prompt: 'q'.repeat(64 * 1024) }));
    const body = new ReadableStream({
      start(controller) {
        for (let i = 0; i < big.length; i += 4096) controller.enqueue(big.subarray(i, i + 4096));
        controller.close();
      },
    });
    const res = await fetch(`${server.url}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect((await errorOf(res)).code).toBe('too_large');
    await expectNothingChanged(server);
  });

  it('answers bad stream ids and unknown WebSocket paths with JSON errors', async () => {
    server = await startServer();
    expect((await errorOf(await fetch(`${server.url}/v1/streams/NOT%20VALID`))).code).toBe('bad_input');
    expect((await errorOf(await fetch(`${server.url}/v1/streams/s_missing/commentary.srt`))).code).toBe('not_found');
    expect(await upgradeStatus(`${server.url.replace('http', 'ws')}/v1/streams/s_missing/ws`)).toBe(404);
    expect(await upgradeStatus(`${server.url.replace('http', 'ws')}/elsewhere`)).toBe(404);
  });

  it('closes a WebSocket that sends a message over the payload limit (1009)', async () => {
    server = await startServer({}, { intervalMs: 3_600_000 });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    const client = wsClient(`${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
    await client.opened;
    client.ws.send(JSON.stringify({ type: 'set_prompt', prompt: 'z'.repeat(10_000) }));
    expect((await client.closed).code).toBe(1009);
    expect(server.runners[0].prompts).toEqual([]);
  });
});

describe('connection limits', () => {
  it('refuses WebSocket viewers past the limit with 429', async () => {
    server = await startServer({ maxWsConnections: 2 }, { intervalMs: 3_600_000 });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    const url = `${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`;
    const a = wsClient(url);
    const b = wsClient(url);
    await Promise.all([a.opened, b.opened]);
    expect(await upgradeStatus(url)).toBe(429);
    a.ws.close();
    await a.closed;
    await new Promise((r) => setTimeout(r, 100)); // the server side finishes the close
    expect(await upgradeStatus(url)).toBe(101);
    b.ws.close();
  });

  it('refuses SSE viewers past the limit with 429', async () => {
    server = await startServer({ maxSseConnections: 1 }, { intervalMs: 3_600_000 });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    const first = await fetch(`${server.url}/v1/streams/${id}/events`);
    expect(first.status).toBe(200);
    expect((await errorOf(await fetch(`${server.url}/v1/streams/${id}/events`))).code).toBe('rate_limited');
    await first.body!.cancel();
  });

  it('cuts a WebSocket peer that stops answering pings', async () => {
    server = await startServer({ heartbeatMs: 100 }, { intervalMs: 3_600_000 });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    // autoPong off: this client never answers pings, like a peer that vanished.
    const silent = wsClient(`${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`, { autoPong: false });
    const healthy = wsClient(`${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
    await Promise.all([silent.opened, healthy.opened]);
    expect((await silent.closed).code).toBe(1006);
    expect(healthy.ws.readyState).toBe(1);
    healthy.ws.close();
  });
});

describe('rate limit', () => {
  it('limits stream creation per client with a token bucket', async () => {
    server = await startServer({ rateLimit: { burst: 2, perMinute: 1 }, maxLiveStreams: 10 });
    expect((await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).status).toBe(201);
    expect((await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).status).toBe(201);
    const err = await errorOf(await postJson(server.url, '/v1/streams', { source: 'match.mp4' }));
    expect(err).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(err.message).toMatch(/retry in \d+ s/);
    expect(server.calls).toHaveLength(2);
  });
});
