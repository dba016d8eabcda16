/**
 * Why a line ends where it does: greedy-commentates a cached held-out match (as `sightline eval commentary`
 * does, but in this thread) and prints, at the chosen seconds, the five likeliest candidates of every
 * generated token with the model's own probabilities (before repetition penalty and thresholds), and the pick.
 *
 *   npx tsx bench/probe-line.ts --model DIR --video .cache/eval/match-SEED-600s.mp4 --at 436,437 [--end-threshold P]
 *     [--fresh-at S]   restart the stream with no context at second S (does the line depend on what came before?)
 *     [--policy P]     cache policy (default streaming; recompute re-encodes the whole context every second)
 */
import { parseArgs } from 'node:util';
import { cachePolicyName } from '../src/cli/options.js';
import { loadModelFolder } from '../src/model/model-folder.js';
import { createOnnxBackend } from '../src/model/onnx-backend.js';
import type { Sampler } from '../src/model/sampler.js';
import { StreamEngine } from '../src/model/stream-engine.js';
import { TextTokenizer } from '../src/model/tokenizer.js';
import { sessionEngineOptions } from '../src/stream/session.js';
import { videoSeconds } from './video-engine.js';

const { values } = parseArgs({ options: { model: { type: 'string' }, video: { type: 'string' }, at: { type: 'string' }, 'end-threshold': { type: 'string' }, 'fresh-at': { type: 'string' }, policy: { type: 'string', default: 'streaming' } } });
if (!values.model || !values.video || !values.at) throw new Error('usage: --model DIR --video FILE --at S1,S2,...');
const at = new Set(values.at.split(',').map(Number));
const first = Math.min(...at);
const last = Math.max(...at);
const folder = loadModelFolder(values.model);
const tokenizer = new TextTokenizer(folder.tokenizerJson, folder.tokenizerConfig);
const backend = await createOnnxBackend(folder, { provider: 'cpu', intraOpThreads: 2 });
// As an eval session runs: greedy, the model's generation settings (end threshold overridable).
const endThreshold = values['end-threshold'] === undefined ? {} : { endThreshold: Number(values['end-threshold']) };
const options = sessionEngineOptions(folder.config.generation, { id: 'probe', policy: cachePolicyName(values.policy!), sampling: { temperature: 0, ...endThreshold } });
const engine = new StreamEngine(backend, tokenizer, folder.config, options);
await engine.restart([]);

// The sampler changes the row in place (penalty, then bans): keep a copy of what the model gave.
const sampler = (engine as unknown as { sampler: Sampler }).sampler;
const pick = sampler.pick.bind(sampler);
let probing = false;
sampler.pick = (logits, recent, silenceId, endId) => {
  const candidates = Float32Array.from(logits);
  const id = pick(logits, recent, silenceId, endId);
  if (probing) {
    const max = candidates.reduce((m, l) => Math.max(m, l), -Infinity);
    const sum = candidates.reduce((s, l) => s + Math.exp(l - max), 0);
    const top = Array.from(candidates.keys()).sort((a, b) => candidates[b] - candidates[a]).slice(0, 5);
    console.log('   ', top.map((t) => `${JSON.stringify(tokenizer.decode([t]))} ${(Math.exp(candidates[t] - max) / sum).toFixed(3)}`).join('  '), '->', JSON.stringify(tokenizer.decode([id])));
  }
  return id;
};

for await (const second of videoSeconds(values.video, folder.config.vision)) {
  const s = second.startSec;
  probing = at.has(s);
  if (values['fresh-at'] !== undefined && s === Number(values['fresh-at'])) await engine.restart([]);
  const r = await engine.step(second);
  if (s >= first - 3) console.log(s, JSON.stringify(r.text), `(previous text ${r.cache.previousTextTokens} tokens)`);
  if (s >= last) break;
}
engine.dispose();
