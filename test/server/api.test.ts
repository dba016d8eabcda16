import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CreateStreamBody, ServerMessage, StreamInfo, StreamList } from '../../src/server/schemas.js';
import { postJson, startServer, waitFor } from './helpers.js';

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('HTTP API', () => {
  it('creates, lists, gets and stops a stream; responses match the schemas', async () => {
    server = await startServer({}, { intervalMs: 20 });
    const created = await postJson(server.url, '/v1/streams', { source: 'match.mp4', prompt: 'describe the play' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    expect(created.headers.get('location')).toBe(`/v1/streams/${id}`);
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0]).toMatchObject({ id, fps: 2, prompt: 'describe the play' });

    const list = StreamList.parse(await (await fetch(`${server.url}/v1/streams`)).json());
    expect(list.streams.map((s) => s.id)).toEqual([id]);

    await waitFor(() => server!.runners[0].stats().time >= 3, 3000, 'three seconds');
    const one = StreamInfo.parse(await (await fetch(`${server.url}/v1/streams/${id}`)).json());
    expect(one.state).toBe('live');
    expect(one.stats).toMatchObject({ ingestFps: 2, drops: 0, lagSec: 0.1, stepLatencyMs: 12 });
    expect(one.stats!.cacheBytes).toBeGreaterThan(0);
    expect(one.segments).toBeGreaterThanOrEqual(3);

    const stopped = await fetch(`${server.url}/v1/streams/${id}`, { method: 'DELETE' });
    expect(stopped.status).toBe(200);
    expect(StreamInfo.parse(await stopped.json()).state).toBe('ended');
    // Transcript kept after a stop; purge forgets the stream.
    expect((await fetch(`${server.url}/v1/streams/${id}/commentary.jsonl`)).status).toBe(200);
    expect((await fetch(`${server.url}/v1/streams/${id}?purge=true`, { method: 'DELETE' })).status).toBe(200);
    const gone = await fetch(`${server.url}/v1/streams/${id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ error: { code: 'not_found', message: `stream "${id}" not found` } });
  });

  it('runs several streams at once and caps live streams', async () => {
    server = await startServer({ maxLiveStreams: 2 });
    const a = await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
    const b = await postJson(server.url, '/v1/streams', { source: 'match.mp4', fps: 1 });
    expect([a.status, b.status]).toEqual([201, 201]);
    const c = await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
    expect(c.status).toBe(503);
    expect(((await c.json()) as any).error.code).toBe('stream_limit');
  });

  it('keeps a bounded number of ended streams in memory', async () => {
    server = await startServer({ maxEndedStreams: 2, rateLimit: { burst: 10 } }, { intervalMs: 3_600_000 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
      ids.push(id);
      await fetch(`${server.url}/v1/streams/${id}`, { method: 'DELETE' });
    }
    const list = StreamList.parse(await (await fetch(`${server.url}/v1/streams`)).json());
    expect(list.streams.map((s) => s.id)).toEqual(ids.slice(2));
  });

  it('reports a runner that fails to start as an error and a failed stream', async () => {
    const { SightlineError } = await import('../../src/errors.js');
    server = await startServer({}, { failStart: new SightlineError('source_unreachable', 'source "x": connection refused') });
    const res = await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: { code: 'source_unreachable', message: 'source "x": connection refused' } });
    const list = StreamList.parse(await (await fetch(`${server.url}/v1/streams`)).json());
    expect(list.streams[0].state).toBe('failed');
  });

  it('serves /healthz, /metrics, /openapi.json, /docs, the web page, and JSON 404s', async () => {
    server = await startServer();
    expect(await (await fetch(`${server.url}/healthz`)).json()).toMatchObject({ ok: true, streams: 0 });
    await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['sightline_streams', 'sightline_viewers', 'sightline_stream_lag_seconds', 'sightline_step_latency_seconds_bucket', 'sightline_stream_dropped_frames', 'sightline_fanout_broadcast_seconds_bucket', 'sightline_slow_viewers_dropped_total']) {
      expect(metrics).toContain(name);
    }
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/streams', '/v1/streams/{id}', '/v1/streams/{id}/ws', '/v1/streams/{id}/events', '/v1/streams/{id}/commentary.vtt']));
    // Schemas in the document are the zod schemas' JSON Schema.
    const expected = z.toJSONSchema(CreateStreamBody, { io: 'input' }) as Record<string, unknown>;
    delete expected.$schema;
    expect(doc.components.schemas.CreateStreamBody).toEqual(expected);
    expect(doc.components.schemas.ServerMessage.oneOf ?? doc.components.schemas.ServerMessage.anyOf).toHaveLength(ServerMessage.options.length);
    expect(doc.components.schemas.ClientMessage).toBeDefined();
    const docs = await fetch(`${server.url}/docs`);
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(await docs.text()).toContain('openapi.json');
    const page = await fetch(`${server.url}/`);
    expect(await page.text()).toContain('<form');
    const missing = await fetch(`${server.url}/v2/nothing`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: { code: 'not_found', message: 'no such route' } });
  });
});
