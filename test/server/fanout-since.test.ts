/** Resuming by stream second (`?since=`, and a gateway's Last-Event-ID): the same on every process. */
import { describe, expect, it } from 'vitest';
import { FanoutHub, type Outbound, type ViewerSink } from '../../src/server/fanout.js';

const sink = () => {
  const outs: Outbound[] = [];
  const s: ViewerSink = { queuedBytes: () => 0, write: (o) => outs.push(o), closeSlow: () => undefined, closeNormal: () => undefined };
  return { s, outs, messages: () => outs.map((o) => JSON.parse(o.json.toString())) };
};
const commentary = (t: number) => ({ type: 'commentary' as const, stream: 'x', start: t, end: t + 1, text: `t${t}`, tokens: 1, latencyMs: 5 });
const hello = (n: number) => ({ type: 'hello' as const, stream: 's', state: 'live' as const, historyCount: n });

describe('FanoutHub since', () => {
  it('history starts at the second given, whatever seqs this process assigned', () => {
    const hub = new FanoutHub('s');
    for (let t = 0; t < 5; t++) hub.publish(commentary(t));
    const v = sink();
    hub.attach(v.s, hello, -1, 3);
    expect(v.messages().map((m) => m.start ?? 'hello')).toEqual(['hello', 3, 4]);
  });

  it('holds back live messages older than since (a gateway still replaying its log publishes them late)', () => {
    const hub = new FanoutHub('s');
    hub.publish(commentary(0));
    const v = sink();
    hub.attach(v.s, hello, -1, 3);
    for (let t = 1; t < 5; t++) hub.publish(commentary(t));
    expect(v.messages().map((m) => m.start ?? 'hello')).toEqual(['hello', 3, 4]);
    hub.detach(v.s);
  });

  it('with sseIdBySecond, SSE ids are the second to resume from (a commentary ends there); status has none', () => {
    const hub = new FanoutHub('s', { sseIdBySecond: true });
    hub.publish(commentary(7));
    hub.publish({ type: 'status', stream: 's', state: 'live', time: 8, ingestFps: 2, drops: 0, lagSec: 0, stepLatencyMs: 1, cacheBytes: 0, skippedSeconds: 0 });
    const v = sink();
    hub.attach(v.s, hello);
    expect(v.outs.map((o) => o.sseId)).toEqual([undefined, '8', undefined]);
    expect(new FanoutHub('t').publish(commentary(1)).seq).toBe(0);
  });
});
