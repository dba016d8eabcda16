import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { openSource } from '../ingest/index.js';
import type { FrameChunk, IngestStats } from '../ingest/index.js';
import { positiveNumber } from './options.js';

interface IngestCliOptions {
  fps: number;
  size: { width: number; height: number };
  seconds?: number;
  realtime?: boolean;
  json?: boolean;
}

/** `--size 224` (square) or `--size 320x180`. */
export function parseSize(value: string): { width: number; height: number } {
  const match = /^(\d+)(?:x(\d+))?$/i.exec(value.trim());
  const width = match ? Number(match[1]) : NaN;
  const height = match ? Number(match[2] ?? match[1]) : NaN;
  if (!(width > 0 && height > 0)) throw new InvalidArgumentError(`expected N or WxH, got "${value}"`);
  return { width, height };
}

function humanLine(chunk: FrameChunk, stats: IngestStats): string {
  const start = chunk.startSec.toFixed(0).padStart(5);
  return (
    `t=${start}s  frames=${chunk.frames.length}  dropped=${chunk.dropped}  ` +
    `input=${stats.inputFps.toFixed(1)}fps  lag=${stats.lagSec.toFixed(1)}s  ${stats.state}\n`
  );
}

/** `sightline ingest <source>`: per-second frame stats; `--json` gives one line per 1-second chunk. */
export function registerIngest(program: Command): void {
  program
    .command('ingest')
    .description('decode a video source into sampled frames and print per-second frame statistics')
    .argument('<source>', 'file path, "-" for stdin, /dev/videoN, or rtsp/rtmp/http(s)/hls/srt/udp URL')
    .option('--fps <n>', 'frames sampled per second', positiveNumber, 2)
    .addOption(
      new Option('--size <N|WxH>', 'output frame size (cover-scaled and centre-cropped)')
        .argParser(parseSize)
        .default({ width: 224, height: 224 }, '224'),
    )
    .option('--seconds <n>', 'stop after this many seconds of stream time', positiveNumber)
    .option('--realtime', 'pace a file to real time instead of reading it as fast as possible')
    .option('--json', 'print one JSON line per 1-second chunk: {"start","frames","dropped"}')
    .action(async (source: string, opts: IngestCliOptions) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const frames = openSource(source, {
        fps: opts.fps,
        width: opts.size.width,
        height: opts.size.height,
        seconds: opts.seconds,
        realtime: opts.realtime,
        signal: controller.signal,
      });
      if (!opts.json) {
        // 'failed' is left to the CLI's one error line.
        frames.on('state', (state, detail) => {
          if (state !== 'failed') process.stderr.write(`[${state}]${detail ? ` ${detail}` : ''}\n`);
        });
      }
      try {
        for await (const chunk of frames) {
          const line = opts.json
            ? `${JSON.stringify({ start: chunk.startSec, frames: chunk.frames.length, dropped: chunk.dropped })}\n`
            : humanLine(chunk, frames.stats());
          process.stdout.write(line);
        }
        if (!opts.json) {
          const s = frames.stats();
          process.stderr.write(`delivered ${s.framesDelivered} frames, dropped ${s.framesDropped}, reconnects ${s.reconnects}\n`);
        }
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        await frames.close();
      }
    });
}
