/**
 * What one stream-second of a model folder costs, one stream alone (Hugging Face folders run one stream a
 * call): the per-second step (vision of the second's frames, its round, the commentary, eviction) as p50 / p99
 * wall ms, split into vision / prefill / generation, and the process CPU it used. From the p50 it derives the
 * streams one engine thread can keep real time (1000 / p50, serial) and, on the CPU, how many the machine's
 * cores could (cores / CPU-seconds per stream-second). docs/byo-models.md, "Cost".
 *
 *   npx tsx bench/byo-cost.ts --model DIR [--device cpu|webgpu] [--threads 2] [--seconds 20] [--quiet on|off] [--line-tokens N]
 *
 * Frames are noise; `--quiet off` (the default here) asks the model every second, `on` keeps the folder's
 * quiet rules. `--line-tokens N` makes every asked second a line of exactly N tokens (the end of turn is
 * banned until then): random weights end a line whenever they happen to pick the end token.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { loadModelFolder } from '../src/model/model-folder.js';
import { createOnnxBackend } from '../src/model/onnx-backend.js';
import { framesToPixelValues } from '../src/model/preprocess.js';
import { StreamEngine } from '../src/model/stream-engine.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { sessionEngineOptions } from '../src/stream/session.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    device: { type: 'string', default: 'cpu' },
    threads: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '20' },
    quiet: { type: 'string', default: 'off' },
    'line-tokens': { type: 'string' },
  },
});
if (!values.model) throw new Error('--model DIR is required');
const folder = loadModelFolder(values.model);
const threads = Number(values.threads);
const backend = await createOnnxBackend(folder, { provider: values.device!, intraOpThreads: threads, fallbackToCpu: false });
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const v = folder.config.vision;
const fps = Math.ceil(v.framesPerSecond);
const lineTokens = values['line-tokens'] ? Number(values['line-tokens']) : undefined;
const endId = tokenizer.singleTokenId(folder.config.chat.endOfTurn)!;
const options = sessionEngineOptions(folder.config.generation, {
  id: 'byo-cost',
  ...(lineTokens ? { maxTokensPerSecond: lineTokens, sampling: { logitBias: { [endId]: -1e9 } } } : {}),
});
const engine = new StreamEngine(backend, tokenizer, folder.config, values.quiet === 'on' ? options : { ...options, quiet: {} });
await engine.restart([]);

const steps: { totalMs: number; visionMs: number; prefillMs: number; decodeMs: number; tokens: number }[] = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let sec = 0; sec < Number(values.seconds); sec++) {
  const rgb = new Uint8Array(v.imageWidth * v.imageHeight * 3 * fps).map((_, i) => (i * 2654435761 + sec * 7919) >>> 24);
  const r = await engine.step({ startSec: sec, endSec: sec + 1, pixelValues: framesToPixelValues(rgb, fps, v.imageWidth, v.imageHeight, v), frames: fps });
  steps.push({ ...r.timings, tokens: r.tokenIds.length });
}
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuMsPerSecond = (cpu.user + cpu.system) / 1000 / steps.length;
const sorted = steps.map((s) => s.totalMs).sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
const mean = (k: 'visionMs' | 'prefillMs' | 'decodeMs' | 'tokens') => steps.reduce((n, s) => n + s[k], 0) / steps.length;
const cores = availableParallelism();
console.log(
  JSON.stringify({
    model: folder.config.name,
    variant: folder.hf?.variant ?? 'fp32',
    provider: backend.provider,
    threads,
    seconds: steps.length,
    framesPerSecond: fps,
    p50Ms: Math.round(q(0.5)),
    p99Ms: Math.round(q(0.99)),
    meanVisionMs: Math.round(mean('visionMs')),
    meanPrefillMs: Math.round(mean('prefillMs')),
    meanGenerationMs: Math.round(mean('decodeMs')),
    meanTokens: Number(mean('tokens').toFixed(1)),
    cpuCoresUsed: Number((cpuMsPerSecond / (wallMs / steps.length)).toFixed(2)),
    realTimeStreamsPerThread: Math.floor(1000 / q(0.5)),
    ...(backend.provider === 'cpu' ? { cores, realTimeStreamsOnCores: Math.floor((cores * 1000) / cpuMsPerSecond) } : {}),
  }),
);
engine.dispose();
await backend.dispose();
