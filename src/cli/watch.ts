/** `sightline watch <source>`: commentary for one source on stdout, one line per second. */
import { InvalidArgumentError, type Command } from 'commander';
import { CACHE_POLICIES, DEFAULT_CACHE_POLICY, type CachePolicyName } from '../cache/index.js';
import { SightlineError, type ErrorCode } from '../errors.js';
import { defaultModelDir } from '../model/default-model.js';
import { EnginePool } from '../model/pool.js';
import { DEVICES, type Device } from '../model/providers.js';
import { startCommentary, type ChunkSource, type SessionEvent } from '../stream/index.js';
import { cachePolicyName, positiveInteger, positiveNumber } from './options.js';

export interface WatchOptions {
  fps: number;
  seconds?: number;
  policy: CachePolicyName;
  realtime?: boolean;
  json?: boolean;
  model: string;
  prompt?: string;
  provider?: string;
  device?: Device;
}

export function device(value: string): Device {
  if (!(DEVICES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${DEVICES.join(', ')}, got "${value}"`);
  return value as Device;
}

function clock(sec: number): string {
  const m = Math.floor(sec / 60);
  return `${String(m).padStart(2, '0')}:${String(Math.floor(sec - m * 60)).padStart(2, '0')}`;
}

/**
 * Run one session over `chunks` (opened from the source unless given) and print each second.
 * Exported for tests, which pass synthetic chunks.
 */
export async function watch(source: string, o: WatchOptions, write: (line: string) => void, chunks?: ChunkSource): Promise<void> {
  const pool = await EnginePool.create({ modelDir: o.model, workers: 1, provider: o.provider, device: o.device });
  if (pool.device.notice) process.stderr.write(`sightline: ${pool.device.notice}\n`);
  // Errors are held until we know whether the stream went on (then they were warnings, printed) or failed
  // (then the last one is the failure: thrown, so the CLI prints it once, as its one line).
  const held: string[] = [];
  let failure: { code: string; message: string } | undefined;
  const flush = () => {
    for (const message of held.splice(0)) process.stderr.write(`sightline: ${message}\n`);
  };
  try {
    const commentary = startCommentary(chunks ?? source, pool, {
      id: source,
      policy: o.policy,
      prompt: o.prompt,
      ingest: { fps: o.fps, realtime: o.realtime, seconds: o.seconds },
      skip: o.realtime ? 'oldest' : 'none',
      onEvent: (e: SessionEvent) => {
        if (e.type === 'commentary') {
          flush();
          write(o.json ? JSON.stringify({ type: 'segment', start: e.start, end: e.end, text: e.text }) : `[${clock(e.start)}-${clock(e.end)}] ${e.text.trim()}`);
        } else if (e.type === 'error') {
          held.push(e.message);
          failure = { code: e.code, message: e.message };
        } else if (e.type === 'status' && e.state !== 'failed') {
          failure = undefined;
        }
      },
    });
    await commentary.done;
  } finally {
    await pool.destroy();
  }
  if (failure) {
    held.pop(); // the failure itself: thrown below, printed once by the CLI
    flush();
    const code = Number.isFinite(new SightlineError(failure.code as ErrorCode, '').httpStatus) ? (failure.code as ErrorCode) : 'internal';
    throw new SightlineError(code, failure.message);
  }
  flush();
}

export function registerWatch(program: Command): void {
  program
    .command('watch <source>')
    .description('commentary for one source (file, URL, webcam, stdin) to stdout, one line per second')
    .option('--fps <n>', 'frames sampled per second', positiveNumber, 2)
    .option('--seconds <n>', 'stop after this many seconds of stream time', positiveInteger)
    .option('--policy <name>', `KV cache policy: ${CACHE_POLICIES.join('|')}`, cachePolicyName, DEFAULT_CACHE_POLICY)
    .option('--realtime', 'pace a file to real time (skips seconds when inference falls behind)')
    .option('--json', 'one JSON line per second: {"type":"segment","start","end","text"}')
    .option('--model <dir>', 'model folder (docs/model-format.md); default: the shipped model', defaultModelDir())
    .option('--prompt <text>', 'instruction for the commentator')
    .option('--device <name>', `where the model runs: ${DEVICES.join('|')} (webgpu keeps the KV cache on the GPU)`, device)
    .option('--provider <name>', 'onnxruntime execution provider (default from the model: cpu)')
    .action(async (source: string, opts: WatchOptions) => {
      await watch(source, opts, (line) => process.stdout.write(`${line}\n`));
    });
}
