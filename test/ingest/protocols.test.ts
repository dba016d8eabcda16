import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSource, runningFfmpegCount, type FrameSource, type IngestOptions } from '../../src/ingest/index.js';
import { newestSegment, optionsForPlaylist, parseMediaPlaylist, variantUrl } from '../../src/ingest/hls-playlist.js';
import { INGEST_DEFAULTS } from '../../src/ingest/index.js';
import { freeTcpPort, freeUdpPort, type LiveProducer } from './live-producer.js';
import { colourOf, fileExists, listening, requireProtocol, serveFolder, startProducer, type Colour } from './protocol-producers.js';

/**
 * Real streaming protocols against real servers on 127.0.0.1 (issue 20, item 5): for RTMP, SRT, RTSP and
 * HLS, the first chunk arrives; the producer is killed with -9 (a drop) and the source reports
 * `reconnecting`; a new producer (another colour) starts and chunks of its picture arrive (recovery).
 * Assertions are on the order of events only; timeouts exist only so that a broken case fails.
 * SIGHTLINE_TEST_TIMELINE=1 prints each case's state events and timeline.
 */
const options: IngestOptions = {
  width: 32,
  height: 32,
  stallTimeoutMs: 1500,
  reconnectDelayMs: 200,
  reconnectMaxDelayMs: 1000,
};
const WAIT_MS = 30_000;
/** A failing phase waits WAIT_MS; the test's own limit leaves room for that and the clean-up. */
const TEST_TIMEOUT_MS = 90_000;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  expect(runningFfmpegCount()).toBe(0);
});

/** What happened, in order: `state:<s>`, `chunk:<colour>`, and the test's own `kill` / `restart`. */
class Timeline {
  readonly events: string[] = [];
  private waiters: Array<() => void> = [];

  add(event: string): void {
    this.events.push(event);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once `event` occurs after position `from`; returns its position. */
  async until(event: string, from: number, what: string): Promise<number> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const at = this.events.indexOf(event, from);
      if (at >= 0) return at;
      if (Date.now() > deadline) throw new Error(`${what}: no ${event} within ${WAIT_MS} ms; events: ${this.compact()}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  /** The events with repeats collapsed, for failure messages: `chunk:red x3, kill, ...`. */
  compact(): string {
    const out: string[] = [];
    for (const e of this.events) {
      const last = out.at(-1);
      const m = last && /^(.*?)(?: x(\d+))?$/.exec(last);
      if (m && m[1] === e) out[out.length - 1] = `${e} x${Number(m[2] ?? 1) + 1}`;
      else out.push(e);
    }
    return out.join(', ');
  }
}

interface Case {
  url: string;
  /** Extra ingest options for this protocol. */
  ingest?: IngestOptions;
  /** Starts a producer of one colour; resolves once it can be reached (or, ingest listening, at once). */
  start(colour: Colour): Promise<LiveProducer>;
  /** The ingest is the listening server: open it before the first producer. */
  ingestListens?: boolean;
}

/** First chunk, drop, `reconnecting`, restart, chunks of the new producer: the scenario for every protocol. */
async function firstFrameDropRecovery(c: Case): Promise<Timeline> {
  const timeline = new Timeline();
  let producer: LiveProducer | undefined;
  cleanups.push(() => producer?.kill());
  let source: FrameSource | undefined;
  const open = (): FrameSource => {
    source = openSource(c.url, { ...options, ...c.ingest });
    cleanups.push(() => source!.close());
    source.on('state', (s, detail, health) => {
      timeline.add(`state:${s}`);
      if (process.env.SIGHTLINE_TEST_TIMELINE) console.log(c.url, s, health?.attempt, health?.code, detail);
    });
    return source;
  };
  if (c.ingestListens) open();
  producer = await c.start('red');
  if (!c.ingestListens) open();
  const consumed = (async () => {
    for await (const chunk of source!) {
      for (const frame of chunk.frames) timeline.add(`chunk:${colourOf(frame)}`);
    }
  })();
  consumed.catch((err: unknown) => timeline.add(`error:${(err as Error).message}`));

  const first = await timeline.until('chunk:red', 0, 'first frame');
  await producer.kill();
  timeline.add('kill');
  const killedAt = timeline.events.length - 1;
  const reconnecting = await timeline.until('state:reconnecting', killedAt, 'drop');
  timeline.add('restart'); // before the start: the source can't recover before this mark
  const restartedAt = timeline.events.length - 1;
  producer = await c.start('blue');
  const recovered = await timeline.until('chunk:blue', restartedAt, 'recovery');

  // Event order: first red frame < kill < reconnecting < restart < live again < first blue frame.
  // (Red frames may still arrive between the kill and the restart: ffmpeg's and the socket's buffers.)
  expect(first).toBeLessThan(killedAt);
  expect(reconnecting).toBeGreaterThan(killedAt);
  expect(reconnecting).toBeLessThan(restartedAt);
  const liveAgain = timeline.events.indexOf('state:live', restartedAt);
  expect(liveAgain, timeline.compact()).toBeGreaterThan(restartedAt);
  expect(liveAgain, timeline.compact()).toBeLessThan(recovered);
  // Nothing from before the drop is replayed once live again (a dead HLS origin still lists its last
  // segment); one red frame may have waited in the chunker for the second half of its second.
  const redAfterResume = timeline.events.slice(liveAgain).filter((e) => e === 'chunk:red');
  expect(redAfterResume.length, timeline.compact()).toBeLessThanOrEqual(1);
  expect(timeline.events.slice(0, restartedAt)).not.toContain('chunk:blue');
  expect(timeline.events.filter((e) => e.startsWith('error:'))).toEqual([]);
  expect(source!.stats().state).toBe('live');
  expect(source!.stats().reconnects).toBeGreaterThanOrEqual(1);
  await source!.close();
  await consumed;
  expect(source!.stats().state).toBe('ended');
  if (process.env.SIGHTLINE_TEST_TIMELINE) console.log(c.url, timeline.compact());
  return timeline;
}

describe('ingest: real streaming protocols on loopback (first frame, drop, recovery)', () => {
  it('rtmp: producer serves (-listen 1), ingest plays', async () => {
    requireProtocol('rtmp');
    const port = await freeTcpPort();
    const url = `rtmp://127.0.0.1:${port}/live/cam`;
    await firstFrameDropRecovery({
      url,
      start: async (colour) => {
        const p = startProducer({ url }, colour);
        await listening(port, 'tcp');
        return p;
      },
    });
  }, TEST_TIMEOUT_MS);

  it('srt: producer is the listener, ingest the caller', async () => {
    requireProtocol('srt');
    const port = await freeUdpPort();
    const url = `srt://127.0.0.1:${port}`;
    await firstFrameDropRecovery({
      url,
      start: async (colour) => {
        const p = startProducer({ url }, colour);
        await listening(port, 'udp');
        return p;
      },
    });
  }, TEST_TIMEOUT_MS);

  it('rtsp: ingest listens (rtsp_flags listen), producer publishes', async () => {
    requireProtocol('tcp'); // RTSP runs over ffmpeg's tcp protocol; both ffmpeg builds have the rtsp (de)muxer
    const port = await freeTcpPort();
    const url = `rtsp://127.0.0.1:${port}/live/cam`;
    await firstFrameDropRecovery({
      url,
      ingest: { inputOptions: { rtsp_flags: 'listen' } },
      ingestListens: true,
      start: async (colour) => startProducer({ url }, colour),
    });
  }, TEST_TIMEOUT_MS);

  it('hls: producer writes segments, a node http server on 127.0.0.1 serves them', async () => {
    requireProtocol('http');
    const dir = mkdtempSync(join(tmpdir(), 'sightline-hls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const origin = await serveFolder(dir);
    cleanups.push(() => origin.close());
    await firstFrameDropRecovery({
      url: `${origin.baseUrl}/index.m3u8`,
      start: async (colour) => {
        const p = startProducer({ hlsDir: dir }, colour);
        if (colour === 'red') await fileExists(join(dir, 'index.m3u8'));
        return p;
      },
    });
  }, TEST_TIMEOUT_MS);
});

describe('ingest: live HLS (pacing, stale origin, playlist parsing)', () => {
  it('segments longer than the stall limit: paced, no false drop, no reconnect', async () => {
    // Unpaced, ffmpeg gave a 3 s segment's 6 frames at once and then nothing for 3 s: longer than this
    // 2 s stall limit, so every segment looked like a drop and was restarted (and replayed).
    const dir = mkdtempSync(join(tmpdir(), 'sightline-hls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const origin = await serveFolder(dir);
    cleanups.push(() => origin.close());
    const producer = startProducer({ hlsDir: dir, segmentSec: 3 }, 'red');
    cleanups.push(() => producer.kill());
    await fileExists(join(dir, 'index.m3u8'));
    const source = openSource(`${origin.baseUrl}/index.m3u8`, { width: 32, height: 32, stallTimeoutMs: 2000 });
    cleanups.push(() => source.close());
    const states: string[] = [];
    source.on('state', (s) => states.push(s));
    const starts: number[] = [];
    for await (const chunk of source) {
      starts.push(chunk.startSec);
      if (starts.length === 8) break; // > 2 segments
    }
    expect(starts).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((i) => starts[0] + i));
    expect(states).toEqual(['live', 'ended']);
    expect(source.stats().reconnects).toBe(0);
  });

  it('an origin that stays stale ends the source as failed after maxOutageMs, replaying nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sightline-hls-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const origin = await serveFolder(dir);
    cleanups.push(() => origin.close());
    const producer = startProducer({ hlsDir: dir }, 'red');
    cleanups.push(() => producer.kill());
    await fileExists(join(dir, 'index.m3u8'));
    const source = openSource(`${origin.baseUrl}/index.m3u8`, { ...options, maxOutageMs: 6000 });
    cleanups.push(() => source.close());
    const states: string[] = [];
    source.on('state', (s) => states.push(s));
    let frames = 0;
    let error: unknown;
    try {
      for await (const chunk of source) {
        frames += chunk.frames.length;
        if (frames >= 2) await producer.kill(); // the origin keeps serving the dead producer's playlist
      }
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'source_timeout' });
    expect((error as Error).message).toMatch(/no new segment in the playlist since the drop; no frames for \d+ s, gave up \(maxOutageMs 6000\)/);
    // live once; then only reconnect attempts (no replay shows as live again), then failed.
    expect(states[0]).toBe('live');
    expect(states.slice(1, -1).every((s) => s === 'reconnecting')).toBe(true);
    expect(states.at(-1)).toBe('failed');
  }, TEST_TIMEOUT_MS);

  it('reads live or VOD, the target duration, the newest segment and a master playlist\'s first variant', () => {
    const live = '#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:6.0,\nseg7.ts\n';
    expect(parseMediaPlaylist(live)).toEqual({ live: true, targetDurationSec: 6 });
    expect(newestSegment(`${live}#EXTINF:6.0,\nseg8.ts\n`)).toBe('8 seg8.ts');
    expect(newestSegment('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\nseg0.ts\n')).toBe('0 seg0.ts'); // a restarted producer
    expect(newestSegment('#EXTM3U\n#EXT-X-TARGETDURATION:1\n')).toBeUndefined();
    expect(parseMediaPlaylist(`${live}#EXT-X-ENDLIST\n`)).toEqual({ live: false, targetDurationSec: 6 });
    expect(parseMediaPlaylist('#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:2\n')?.live).toBe(false);
    const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=800000\nlow/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2000000\nhigh/index.m3u8\n';
    expect(parseMediaPlaylist(master)).toBeUndefined();
    expect(variantUrl(master, 'http://127.0.0.1:1/live/master.m3u8')).toBe('http://127.0.0.1:1/live/low/index.m3u8');
    const o = { ...INGEST_DEFAULTS, realtime: false, inputOptions: {} } as unknown as Parameters<typeof optionsForPlaylist>[0];
    expect(optionsForPlaylist(o, { live: false, targetDurationSec: 6 })).toBe(o);
    expect(optionsForPlaylist(o, { live: true, targetDurationSec: 6 })).toMatchObject({
      realtime: true,
      stallTimeoutMs: 18_000,
      inputOptions: { live_start_index: -1 },
    });
  });
});
