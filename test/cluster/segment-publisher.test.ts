/** The worker's publisher through a NATS outage: order kept, retried, and past its bound a visible gap. */
import { describe, expect, it } from 'vitest';
import { SegmentPublisher } from '../../src/cluster/segment-log.js';
import { waitFor } from '../server/helpers.js';

const commentary = (t: number) => ({ type: 'commentary' as const, stream: 's', start: t, end: t + 1, text: `t${t}`, tokens: 1, latencyMs: 1 });

function fakeJs() {
  const stored: { subject: string; msgID?: string; event: any }[] = [];
  let down = true;
  const js = {
    publish: async (subject: string, data: Uint8Array, o?: { msgID?: string }) => {
      if (down) throw new Error('disconnected');
      stored.push({ subject, msgID: o?.msgID, event: JSON.parse(new TextDecoder().decode(data)) });
      return { seq: stored.length };
    },
  };
  return { js: js as any, stored, up: () => (down = false) };
}

describe('SegmentPublisher', () => {
  it('keeps order through an outage, one message id per second; seconds dropped past the bound become a gap', async () => {
    const nats = fakeJs();
    const errors: string[] = [];
    const p = new SegmentPublisher(nats, (m) => errors.push(m), 4);
    for (let t = 0; t < 6; t++) p.publish('s', commentary(t));
    p.publish('s', { type: 'status', stream: 's', state: 'live', time: 6, ingestFps: 2, drops: 0, lagSec: 0, stepLatencyMs: 1, cacheBytes: 0, skippedSeconds: 0 });
    nats.up();
    await waitFor(() => nats.stored.length >= 4, 10_000, 'the queue flushed');
    await p.flushed();
    p.publish('s', commentary(6));
    await p.flushed();
    // Every second is stored once: as its commentary, or inside a gap for those dropped past the bound.
    const covered: number[] = [];
    for (const { event: e } of nats.stored) for (let t = e.start; t < e.end; t++) covered.push(t);
    expect(covered.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(nats.stored.some((m) => m.event.type === 'gap')).toBe(true);
    expect(nats.stored.filter((m) => m.event.type === 'commentary').map((m) => m.msgID)).toEqual(nats.stored.filter((m) => m.event.type === 'commentary').map((m) => `s:${m.event.start}`));
    // Commentary keeps its order.
    const seconds = nats.stored.filter((m) => m.event.type === 'commentary').map((m) => m.event.start);
    expect(seconds).toEqual([...seconds].sort((a, b) => a - b));
    expect(nats.stored.every((m) => m.subject === 'sightline.seg.s')).toBe(true);
    expect(errors.some((e) => /dropped the oldest/.test(e))).toBe(true);
    p.close();
  });
});
