/**
 * What a cache policy costs on a real match: one held-out video through ingest, greedy as the eval, each
 * policy in turn in this thread; decoder rows encoded per second (hardware-independent work) and step time
 * p50/p99, as ratios against the first policy (the baseline, run in the same process).
 *
 *   npx tsx bench/policy-cost.ts --model DIR --video .cache/eval/match-SEED-600s.mp4 [--policies streaming,refresh] [--seconds 600]
 */
import { parseArgs } from 'node:util';
import { cachePolicyName } from '../src/cli/options.js';
import { loadModelFolder } from '../src/model/model-folder.js';
import { createOnnxBackend } from '../src/model/onnx-backend.js';
import { StreamEngine } from '../src/model/stream-engine.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { sessionEngineOptions } from '../src/stream/session.js';
import { countDecoderRows, videoSeconds } from './video-engine.js';

const { values } = parseArgs({
  options: { model: { type: 'string' }, video: { type: 'string' }, policies: { type: 'string', default: 'streaming,refresh' }, seconds: { type: 'string', default: '600' } },
});
if (!values.model || !values.video) throw new Error('usage: --model DIR --video FILE [--policies a,b] [--seconds N]');
const folder = loadModelFolder(values.model);
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const backend = await createOnnxBackend(folder, { provider: 'cpu', intraOpThreads: 1 });
const decoder = countDecoderRows(backend);
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];

const results: { policy: string; seconds: number; spoken: number; rowsPerSec: number; p50Ms: number; p99Ms: number; maxMs: number }[] = [];
for (const policy of values.policies.split(',').map(cachePolicyName)) {
  // As an eval session runs: greedy, the model's generation settings.
  const engine = new StreamEngine(backend, tokenizer, folder.config, sessionEngineOptions(folder.config.generation, { id: 'bench', policy, sampling: { temperature: 0 } }));
  await engine.restart([]);
  const rows0 = decoder.rows();
  const steps: number[] = [];
  let spoken = 0;
  for await (const second of videoSeconds(values.video, folder.config.vision)) {
    if (second.startSec >= Number(values.seconds)) break;
    const t0 = performance.now();
    const r = await engine.step(second);
    steps.push(performance.now() - t0);
    if (!r.silent) spoken++;
  }
  engine.dispose();
  results.push({ policy, seconds: steps.length, spoken, rowsPerSec: Math.round((decoder.rows() - rows0) / steps.length), p50Ms: pct(steps, 0.5), p99Ms: pct(steps, 0.99), maxMs: Math.max(...steps) });
}
console.table(results);
const base = results[0];
for (const r of results.slice(1)) {
  console.log(`${r.policy} / ${base.policy}: decoder rows ${(r.rowsPerSec / base.rowsPerSec).toFixed(2)}x, step p50 ${(r.p50Ms / base.p50Ms).toFixed(2)}x, p99 ${(r.p99Ms / base.p99Ms).toFixed(2)}x`);
}
