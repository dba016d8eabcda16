import { describe, expect, it } from 'vitest';
import { Chunker } from '../../src/ingest/chunker.js';
import { buildIngestArgs, FfmpegCommand } from '../../src/ingest/command.js';
import { errorFromStderr } from '../../src/ingest/errors-from-stderr.js';
import { FrameQueue, type QueuedFrame } from '../../src/ingest/frame-queue.js';
import { FrameReader } from '../../src/ingest/frame-reader.js';
import { ProgressParser, type ProgressBlock } from '../../src/ingest/progress.js';
import { ReconnectBackoff } from '../../src/ingest/reconnect.js';
import { classifySource } from '../../src/ingest/source-kind.js';

const frameAt = (index: number, fps = 2, droppedBefore = 0): QueuedFrame => ({
  frame: { ptsSec: index / fps, width: 1, height: 1, rgb: new Uint8Array(3) },
  index,
  droppedBefore,
});

describe('progress parser', () => {
  it('parses key=value blocks split across reads', () => {
    const blocks: ProgressBlock[] = [];
    const parser = new ProgressParser((b) => blocks.push(b));
    parser.push('frame=10\nfps=4.5\nout_time_us=5000000\ndrop_fr');
    parser.push('ames=3\ndup_frames=1\nspeed=2.5x\nprogress=continue\nframe=12\nout_time_us=N/A\nspeed=N/A\nprogress=end\n');
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatchObject({ frame: 10, fps: 4.5, outTimeSec: 5, dropFrames: 3, dupFrames: 1, speed: 2.5, ended: false });
    expect(blocks[1]).toMatchObject({ frame: 12, outTimeSec: 0, speed: 0, ended: true });
  });
});

describe('frame reader', () => {
  it('cuts arbitrary reads into exact records', () => {
    const frames: number[][] = [];
    const reader = new FrameReader(4, (f) => frames.push([...f]));
    reader.push(Buffer.from([1, 2, 3]));
    reader.push(Buffer.from([4, 5, 6, 7, 8, 9, 10]));
    expect(frames).toEqual([[1, 2, 3, 4], [5, 6, 7, 8]]);
    expect(reader.partialBytes).toBe(2);
  });
});

describe('frame queue', () => {
  it('drops the oldest when full and carries the count on the new oldest', async () => {
    const q = new FrameQueue(2);
    for (let i = 0; i < 5; i++) q.push(frameAt(i));
    expect(q.length).toBe(2);
    expect(q.droppedTotal).toBe(3);
    expect(await q.take()).toMatchObject({ index: 3, droppedBefore: 3 });
    expect(await q.take()).toMatchObject({ index: 4, droppedBefore: 0 });
    q.end(new Error('boom'));
    await expect(q.take()).rejects.toThrow('boom');
  });
});

describe('chunker', () => {
  it('closes a chunk on its last grid slot, on a later second, and at the end', async () => {
    const items = [frameAt(0), frameAt(1), frameAt(2), frameAt(6, 2, 3), frameAt(7)];
    const chunker = new Chunker(2, async () => items.shift());
    const chunks = [];
    for (let c = await chunker.next(); c; c = await chunker.next()) chunks.push(c);
    expect(chunks.map((c) => [c.startSec, c.frames.map((f) => f.ptsSec), c.dropped])).toEqual([
      [0, [0, 0.5], 0],
      [1, [1], 0],
      [3, [3, 3.5], 3],
    ]);
  });
});

describe('source kinds', () => {
  it.each([
    ['-', 'stdin', false],
    ['/dev/video0', 'v4l2', true],
    ['clip.mp4', 'file', false],
    ['file:///tmp/a%20b.mp4', 'file', false],
    ['rtsp://127.0.0.1/cam', 'rtsp', true],
    ['rtmp://127.0.0.1/live/x', 'rtmp', true],
    ['https://127.0.0.1/live/index.m3u8', 'hls', false],
    ['http://127.0.0.1/video.mp4', 'http', false],
    ['srt://127.0.0.1:9000', 'srt', true],
    ['udp://127.0.0.1:1234', 'udp', true],
  ])('%s is %s', (source, kind, live) => {
    expect(classifySource(source)).toMatchObject({ kind, live });
  });

  it('rejects unknown schemes', () => {
    expect(() => classifySource('foo://bar')).toThrow(expect.objectContaining({ code: 'source_unknown_protocol' }));
  });
});

describe('command builder', () => {
  it('keeps global, input and output options in ffmpeg order', () => {
    const args = new FfmpegCommand()
      .global({ hide_banner: true, loglevel: 'error' })
      .input({ url: 'in.mp4', realtime: true, options: { threads: 1, skipped: undefined } })
      .videoFilter('fps=2')
      .videoFilter('crop=2:2')
      .output('pipe:1', { f: 'rawvideo' })
      .toArgs();
    expect(args).toEqual(['-hide_banner', '-loglevel', 'error', '-re', '-threads', '1', '-i', 'in.mp4', '-vf', 'fps=2,crop=2:2', '-f', 'rawvideo', 'pipe:1']);
  });

  it('builds per-kind network options', () => {
    const base = { fps: 2, width: 224, height: 224, realtime: false, ioTimeoutMs: 3000, rtspTransport: 'tcp' as const, decoderThreads: 1, scaleFlags: 'bilinear', fastDecode: false, progressFd: 3 };
    const rtsp = buildIngestArgs(classifySource('rtsp://127.0.0.1/cam'), base);
    expect(rtsp.join(' ')).toContain('-rtsp_transport tcp -timeout 3000000 -i rtsp://127.0.0.1/cam');
    const rtmp = buildIngestArgs(classifySource('rtmp://127.0.0.1/a/b'), base);
    expect(rtmp).toContain('-rw_timeout');
    expect(rtmp).not.toContain('-timeout'); // rtmp's -timeout would make it listen
    const stdin = buildIngestArgs(classifySource('-'), base);
    expect(stdin).not.toContain('-nostdin');
  });
});

describe('errors from stderr', () => {
  const ctx = { source: 'cam', classified: classifySource('rtsp://127.0.0.1:9/x'), elapsedMs: 10, ioTimeoutMs: 5000 };
  it('does not read "?timeout=0" in a refusal as a timeout', () => {
    const err = errorFromStderr(['[tcp @ 0x1] Connection to tcp://127.0.0.1:9?timeout=0 failed: Connection refused'], ctx);
    expect(err.code).toBe('source_unreachable');
  });
  it('treats a generic network error after the full I/O timeout as a timeout', () => {
    const err = errorFromStderr(['rtsp://127.0.0.1:9/x: Invalid data found when processing input'], { ...ctx, elapsedMs: 5000 });
    expect(err.code).toBe('source_timeout');
  });
});

describe('reconnect backoff', () => {
  it('doubles up to the cap, resets after a healthy run, gives up after max attempts', () => {
    const b = new ReconnectBackoff({ reconnectDelayMs: 100, reconnectMaxDelayMs: 350, maxReconnectAttempts: 4 });
    expect(b.next(true)).toEqual({ attempt: 1, delayMs: 100 });
    expect(b.next(false)).toEqual({ attempt: 2, delayMs: 200 });
    expect(b.next(false)).toEqual({ attempt: 3, delayMs: 350 });
    expect(b.next(true)).toEqual({ attempt: 1, delayMs: 100 });
    for (let i = 2; i <= 4; i++) expect(b.next(false)?.attempt).toBe(i);
    expect(b.next(false)).toBeUndefined();
  });
});
