/** A stream whose picture is out of the model's domain, as viewers, the stream JSON and /metrics see it. */
import { afterEach, describe, expect, it } from 'vitest';
import { modelInfo, pickStats } from '../../src/server/session-runner.js';
import { StreamInfo, StatusMessage } from '../../src/server/schemas.js';
import { postJson, startServer, waitFor, wsClient } from './helpers.js';

type Server = Awaited<ReturnType<typeof startServer>>;
let server: Server | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const MODEL = { name: 'sightline-commentator-v5-int8', knows: "Sightline's synthetic 7-a-side football broadcasts only", outOfDomain: { threshold: 9.5, windowSec: 3 } };
const REASON = 'the picture is not the world sightline-commentator-v5-int8 was trained on (out-of-domain score 30.0 >= 9.5): commentary paused';
const status = (id: string, state: 'live' | 'out_of_domain', time: number, extra: object = {}) => ({ type: 'status' as const, stream: id, state, time, ingestFps: 2, drops: 0, lagSec: 0, stepLatencyMs: 50, cacheBytes: 1, skippedSeconds: 0, ...extra });

describe('out_of_domain on the wire', () => {
  it('reaches viewers (WebSocket status), the stream JSON (state, reason, score, model) and /metrics, and goes back to live', async () => {
    server = await startServer({}, { intervalMs: 3_600_000, model: MODEL });
    const { id } = (await (await postJson(server.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    const runner = server.runners[0];
    const ws = wsClient(`${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
    await ws.opened;
    const json = async () => (await (await fetch(`${server!.url}/v1/streams/${id}`)).json()) as any;
    await waitFor(async () => (await json()).model, 3000, 'model in the stream JSON');

    runner.emitEvent(status(id, 'out_of_domain', 4, { reason: REASON, oodScore: 30 }));
    const msg = await waitFor(() => ws.messages.find((m) => m.type === 'status' && m.state === 'out_of_domain'), 3000, 'out_of_domain status');
    expect(StatusMessage.parse(msg)).toMatchObject({ reason: REASON, oodScore: 30 });
    const info = await json();
    // (`stats` is the runner's last status: the scripted runner keeps its own; pickStats below is the real one's.)
    expect(StreamInfo.parse(info)).toMatchObject({ state: 'out_of_domain', model: MODEL });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/sightline_streams\{state="out_of_domain"\} 1/);

    runner.emitEvent(status(id, 'live', 9, { oodScore: 1.2 }));
    await waitFor(() => ws.messages.find((m) => m.type === 'status' && m.state === 'live'), 3000, 'live again');
    expect((await json()).state).toBe('live');
    ws.ws.close();
  });

  it("the stream JSON's stats carry the reason and the score of an out_of_domain status", () => {
    const e = status('s_1', 'out_of_domain', 4, { reason: REASON, oodScore: 30 });
    expect(pickStats(e)).toMatchObject({ state: 'out_of_domain', reason: REASON, oodScore: 30 });
  });

  it("the model JSON says what the model knows only when its folder has ood.json", () => {
    const config = { name: 'm' } as never;
    expect(modelInfo({ config })).toEqual({ name: 'm' });
    const ood = { domain: 'football only', enter: 9.5, windowSec: 3 } as never;
    expect(modelInfo({ config, ood })).toEqual({ name: 'm', knows: 'football only', outOfDomain: { threshold: 9.5, windowSec: 3 } });
  });
});
