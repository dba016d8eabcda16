import { describe, expect, it } from 'vitest';
import { FanoutHub, type Outbound, type ViewerSink } from '../../src/server/fanout.js';

class MemorySink implements ViewerSink {
  payloads: Buffer[] = [];
  outs: Outbound[] = [];
  queued = 0;
  closed: 'slow' | 'normal' | undefined;
  queuedBytes() {
    return this.queued;
  }
  write(out: Outbound) {
    this.outs.push(out);
    this.payloads.push(out.json);
  }
  closeSlow() {
    this.closed = 'slow';
  }
  closeNormal() {
    this.closed = 'normal';
  }
  messages() {
    return this.payloads.map((p) => JSON.parse(p.toString()));
  }
}

const commentary = (t: number, text = `t${t}`) => ({ type: 'commentary' as const, stream: 'x', start: t, end: t + 1, text, tokens: 1, latencyMs: 5 });
const hello = (n: number) => ({ type: 'hello' as const, stream: 's', state: 'live' as const, historyCount: n });

describe('FanoutHub', () => {
  it('serializes once: every viewer gets the same Buffer object', () => {
    const hub = new FanoutHub('s');
    const a = new MemorySink();
    const b = new MemorySink();
    hub.attach(a, hello);
    hub.attach(b, hello);
    hub.publish(commentary(0));
    expect(a.outs[1]).toBe(b.outs[1]);
    expect(a.payloads[1]).toBe(b.payloads[1]);
    expect(a.messages()[1]).toMatchObject({ type: 'commentary', stream: 's', seq: 0, time: 0, start: 0, end: 1 });
  });

  it('keeps a bounded ring of history plus the latest status, in seq order', () => {
    const hub = new FanoutHub('s', { historySize: 3 });
    for (let t = 0; t < 10; t++) {
      hub.publish({ type: 'status', stream: 's', state: 'live', time: t, ingestFps: 2, drops: 0, lagSec: 0, stepLatencyMs: 1, cacheBytes: 0, skippedSeconds: 0 });
      hub.publish(commentary(t));
    }
    const late = new MemorySink();
    hub.attach(late, hello);
    const msgs = late.messages();
    expect(msgs[0]).toEqual(hello(4));
    expect(msgs.slice(1).map((m) => `${m.type}@${m.time}`)).toEqual(['commentary@7', 'commentary@8', 'status@9', 'commentary@9']);
    const seqs = msgs.slice(1).map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('drops only the viewer whose queue would pass the bound; the producer does not wait', () => {
    let dropped = 0;
    const hub = new FanoutHub('s', { maxQueueBytes: 1000, onSlowViewer: () => dropped++ });
    const fast = new MemorySink();
    const slow = new MemorySink();
    hub.attach(fast, hello);
    hub.attach(slow, hello);
    slow.queued = 950;
    hub.publish(commentary(0, 'x'.repeat(100)));
    expect(slow.closed).toBe('slow');
    expect(fast.closed).toBeUndefined();
    expect(hub.viewerCount).toBe(1);
    expect(dropped).toBe(1);
    hub.publish(commentary(1));
    expect(fast.messages().map((m) => m.type)).toEqual(['hello', 'commentary', 'commentary']);
  });

  it('hands large broadcasts out in batches without reordering, and flushes them before closing', async () => {
    const hub = new FanoutHub('s', { sendBatch: 3 });
    const sinks = Array.from({ length: 7 }, () => new MemorySink());
    for (const sink of sinks) hub.attach(sink, hello);
    hub.publish(commentary(0));
    hub.publish(commentary(1));
    // 7 viewers > batch of 3: publish returns at once; only the hello went out so far.
    expect(sinks.map((k) => k.payloads.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const late = new MemorySink();
    hub.attach(late, hello); // joins mid-broadcast: gets both through history, not twice
    await new Promise((r) => setImmediate(r));
    expect(sinks.map((k) => k.payloads.length)).toEqual([2, 2, 2, 1, 1, 1, 1]);
    hub.publish({ type: 'end', stream: 's' });
    hub.closeAll();
    for (const sink of [...sinks, late]) {
      expect(sink.messages().map((m) => m.seq ?? 'hello')).toEqual(['hello', 0, 1, 2]);
      expect(sink.closed).toBe('normal');
    }
  });

  it('closes late joiners of an ended stream after the history', () => {
    const hub = new FanoutHub('s');
    hub.publish(commentary(0));
    hub.publish({ type: 'end', stream: 's' });
    const late = new MemorySink();
    hub.attach(late, hello);
    expect(late.messages().map((m) => m.type)).toEqual(['hello', 'commentary', 'end']);
    expect(late.closed).toBe('normal');
    expect(hub.viewerCount).toBe(0);
  });
});

describe('textFrame', () => {
  it.each([0, 125, 126, 65535, 65536, 70_000])('frames %i payload bytes as RFC 6455 says', async (n) => {
    const { textFrame } = await import('../../src/server/ws-frame.js');
    const payload = Buffer.alloc(n, 0x61);
    const frame = textFrame(payload);
    expect(frame[0]).toBe(0x81);
    const len7 = frame[1];
    const [length, header] = len7 < 126 ? [len7, 2] : len7 === 126 ? [frame.readUInt16BE(2), 4] : [Number(frame.readBigUInt64BE(2)), 10];
    expect(length).toBe(n);
    expect(frame.subarray(header).equals(payload)).toBe(true);
  });
});
