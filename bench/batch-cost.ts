/**
 * What one stream-second costs when B streams share each model call (cross-stream batching, format-2 model):
 * B streams step through one BatchScheduler in this thread, as fast as they can, and each batch size is
 * reported as ms per stream-second (wall and process CPU), the mean batch the scheduler formed and the
 * speed-up against the first size in the list (the baseline, run in the same process; 1 = no sharing).
 *
 *   npx tsx bench/batch-cost.ts [--model DIR] [--batches 1,8,64,256] [--seconds 20] [--policy refresh] [--device cpu|webgpu] [--kv host|device]
 *
 * Frames are noise, sampling as a live session (temperature from the model), sessions start with ~1,100
 * tokens of previous text so the cache is near its steady-state size. One onnxruntime thread on the CPU.
 */
import { parseArgs } from 'node:util';
import { cachePolicyName } from '../src/cli/options.js';
import { DEFAULT_CACHE_POLICY } from '../src/cache/index.js';
import { BatchScheduler } from '../src/model/batch-scheduler.js';
import { defaultModelDir } from '../src/model/default-model.js';
import { loadModelFolder } from '../src/model/model-folder.js';
import { createOnnxBackend } from '../src/model/onnx-backend.js';
import { framesToPixelValues } from '../src/model/preprocess.js';
import { StreamEngine } from '../src/model/stream-engine.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { sessionEngineOptions } from '../src/stream/session.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    batches: { type: 'string', default: '1,8,64,256' },
    seconds: { type: 'string', default: '20' },
    policy: { type: 'string', default: DEFAULT_CACHE_POLICY },
    device: { type: 'string', default: 'cpu' },
    kv: { type: 'string' },
  },
});
const policy = cachePolicyName(values.policy!);
const seconds = Number(values.seconds);
const folder = loadModelFolder(values.model ?? defaultModelDir());
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
// K/V where the engine keeps them by default: on the GPU with webgpu, on the host with cpu.
const kv = values.kv ?? (values.device === 'cpu' ? 'host' : 'device');
if (kv !== 'host' && kv !== 'device') throw new Error(`--kv: "${kv}" is not host or device`);
const backend = await createOnnxBackend(folder, { provider: values.device!, intraOpThreads: 1, kv });
if (!backend.decodeBatch) throw new Error(`${folder.dir}: format ${folder.config.formatVersion} model (no batch axis): nothing to batch`);
const v = folder.config.vision;
const fps = Math.ceil(v.framesPerSecond);
const noise = Array.from({ length: 16 }, (_, sec) =>
  framesToPixelValues(new Uint8Array(v.imageWidth * v.imageHeight * 3 * fps).map((_, i) => (i * 2654435761 + sec) >>> 24), fps, v.imageWidth, v.imageHeight, v),
);
const previousTexts = Array.from({ length: 120 }, (_, i) => ` Silva passes to Okafor, ${i} minutes played.`);

async function run(streams: number): Promise<{ wallMs: number; cpuMs: number; meanBatch: number }> {
  const scheduler = new BatchScheduler(backend);
  const engines = Array.from({ length: streams }, (_, i) =>
    new StreamEngine(scheduler, tokenizer, folder.config, sessionEngineOptions(folder.config.generation, { id: `b${i}`, policy, sampling: { seed: i } })),
  );
  await Promise.all(engines.map((e) => e.restart(previousTexts)));
  const calls0 = { ...scheduler.stats };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    engines.map(async (e, i) => {
      for (let sec = 0; sec < seconds; sec++) {
        await e.step({ startSec: sec, endSec: sec + 1, pixelValues: noise[(sec + i) % noise.length], frames: fps });
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  engines.forEach((e) => e.dispose());
  const n = streams * seconds;
  const meanBatch = (scheduler.stats.requests - calls0.requests) / (scheduler.stats.calls - calls0.calls);
  return { wallMs: wallMs / n, cpuMs: (cpu.user + cpu.system) / 1e3 / n, meanBatch };
}

const rows: Record<string, number>[] = [];
let baseline: number | undefined;
for (const b of values.batches!.split(',').map(Number)) {
  const startedAt = new Date().toISOString();
  const r = await run(b);
  baseline ??= r.wallMs;
  const row = {
    streams: b,
    msPerStreamSecond: +r.wallMs.toFixed(2),
    cpuMsPerStreamSecond: +r.cpuMs.toFixed(2),
    cores: +(r.cpuMs / r.wallMs).toFixed(2),
    meanBatch: +r.meanBatch.toFixed(1),
    speedup: +(baseline / r.wallMs).toFixed(2),
  };
  rows.push(row);
  // The times let a GPU utilisation log (nvidia-smi --query-gpu=timestamp,utilization.gpu) be matched to a size.
  console.error(JSON.stringify({ ...row, startedAt, endedAt: new Date().toISOString() }));
}
await backend.dispose();
console.log(`model ${folder.config.name}, ${values.device}, K/V on ${kv}, policy ${policy}, ${seconds} s per stream, 1 onnxruntime thread`);
console.table(rows);
