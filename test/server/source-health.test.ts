/**
 * Source health end to end: a real live UDP source on loopback (the synthetic match, as in the demo) is
 * killed and restarted under a real server running the real session and ingest (fake engine: the test is
 * about the source, not the model). Viewers, the stream JSON, /metrics, the log and the transcript all
 * show the outage; a source that stays gone fails the stream with the reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type RunningServer } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { sessionFactory } from '../../src/server/session-runner.js';
import { firstDatagram, freeUdpPort, startLiveProducer, type LiveProducer } from '../ingest/live-producer.js';
import { fakeEngine, fakePools } from '../stream/fake-engine.js';
import { postJson, tempDir, waitFor, wsClient } from './helpers.js';
import { isSkippedGap } from '../../src/stream/events.js';

let server: RunningServer | undefined;
const producers: LiveProducer[] = [];
afterEach(async () => {
  await server?.close();
  server = undefined;
  for (const p of producers.splice(0)) await p.kill();
});

function live(url: string): LiveProducer {
  const p = startLiveProducer(url);
  producers.push(p);
  return p;
}

async function liveStream(ingest: Record<string, number> = {}) {
  const port = await freeUdpPort();
  const url = `udp://127.0.0.1:${port}`;
  const producer = live(url);
  await firstDatagram(port);
  const logs: any[] = [];
  server = await createServer({
    factory: sessionFactory({ pools: fakePools(fakeEngine()), ingest: { ioTimeoutMs: 3000, reconnectDelayMs: 200, ...ingest } }),
    dataDir: tempDir(),
    port: 0,
    logger: createLogger('info', (line) => logs.push(JSON.parse(line))),
    policy: { allowLoopback: true },
  });
  const res = await postJson(server.url, '/v1/streams', { source: url });
  expect(res.status).toBe(201);
  const { id } = (await res.json()) as { id: string };
  const client = wsClient(`${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
  await waitFor(() => client.messages.filter((m) => m.type === 'commentary').length >= 2, 60_000, 'commentary');
  const json = async () => (await (await fetch(`${server!.url}/v1/streams/${id}`)).json()) as any;
  return { url, id, producer, client, logs, json };
}

describe('a live source that drops', () => {
  it('is reported reconnecting (viewers, JSON, /metrics, log), resumes when it returns, and the gap is in the transcript', async () => {
    const { url, id, producer, client, logs, json } = await liveStream();
    await producer.kill();
    const quiet = await waitFor(() => client.messages.find((m) => m.type === 'status' && m.state === 'reconnecting'), 20_000, 'reconnecting status');
    // The first report: the open connection went quiet (attempt 0), naming the source and the cause.
    expect(quiet).toMatchObject({ attempt: 0 });
    expect(quiet.reason).toContain(url);
    expect(quiet.reason).toMatch(/no frames for/);
    const info = await json();
    expect(info.state).toBe('reconnecting');
    expect(info.stats).toMatchObject({ state: 'reconnecting' });
    expect(typeof info.stats.reason).toBe('string');
    expect(typeof info.stats.attempt).toBe('number');
    const metrics = await (await fetch(`${server!.url}/metrics`)).text();
    expect(metrics).toContain(`sightline_stream_source_up{stream="${id}"} 0`);
    expect(metrics).toMatch(/sightline_streams\{state="reconnecting"\} 1/);
    expect(logs.find((l) => l.msg === 'source reconnecting' && l.stream === id && l.reason?.includes(url))).toBeDefined();
    live(url);
    // Event order: reconnecting ... live (resumed) ... gap, then the first second after the outage. Seconds
    // already in the engine when the source died may still arrive after the reconnecting report, so the
    // gap is checked against the commentary around it, not against what had arrived at the report.
    const gap = await waitFor(() => client.messages.find((m) => m.type === 'gap' && !isSkippedGap(m.reason)), 60_000, 'gap after the source returned');
    const at = (m: any) => client.messages.indexOf(m);
    const after = await waitFor(() => client.messages.find((m) => m.type === 'commentary' && at(m) > at(gap)), 60_000, 'commentary after the gap');
    const lastBefore = client.messages.filter((m) => m.type === 'commentary' && at(m) < at(gap)).at(-1);
    const resumed = client.messages.find((m) => m.type === 'status' && m.state === 'live' && m.resumed);
    expect(resumed).toBeDefined();
    expect(at(quiet)).toBeLessThan(at(resumed));
    expect(gap).toMatchObject({ start: lastBefore.end, end: after.start });
    expect(gap.end).toBeGreaterThan(gap.start);
    expect((await json()).state).toBe('live');
    expect((await (await fetch(`${server!.url}/metrics`)).text())).toContain(`sightline_stream_source_up{stream="${id}"} 1`);

    const jsonl = (await (await fetch(`${server!.url}/v1/streams/${id}/commentary.jsonl`)).text()).trim().split('\n').map((l) => JSON.parse(l));
    expect(jsonl.find((s) => s.gap === gap.reason)).toEqual({ start: gap.start, end: gap.end, text: '', gap: gap.reason });
    const vtt = await (await fetch(`${server!.url}/v1/streams/${id}/commentary.vtt`)).text();
    expect(vtt).toContain('[no signal]');
    client.ws.close();
  }, 120_000);

  it('ends the stream as failed, with the reason, once it has been gone for maxOutageMs', async () => {
    const { id, producer, client, logs, json } = await liveStream({ maxOutageMs: 3000 });
    await producer.kill();
    const closed = await client.closed;
    expect(closed.code).toBeGreaterThanOrEqual(4500); // 4000 + the last cause's HTTP status (502/504)
    expect(closed.reason).toMatch(/gave up/);
    const failed = client.messages.find((m) => m.type === 'status' && m.state === 'failed');
    expect(failed.reason).toMatch(/no frames for \d+ s, gave up/);
    const states = client.messages.filter((m) => m.type === 'status').map((m) => m.state);
    expect(states.indexOf('reconnecting')).toBeLessThan(states.indexOf('failed'));
    const info = await json();
    expect(info.state).toBe('failed');
    expect(info.stats.reason).toBe(failed.reason);
    expect(logs.find((l) => l.msg === 'stream failed' && l.stream === id)).toBeDefined();
  }, 120_000);
});
