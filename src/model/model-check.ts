/**
 * `sightline doctor --model DIR`: what a model folder is and where it runs, without starting a stream. The
 * folder is read as the engine reads it, then opened on each execution provider this build has.
 */
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { graphFiles, hfModelType } from './hf-folder.js';
import { loadModelFolder } from './model-folder.js';
import { createOnnxBackend } from './onnx-backend.js';
import { availableProviders, DEVICES } from './providers.js';

export interface ModelCheck {
  dir: string;
  /** "sightline" (our format), a Hugging Face family ("smolvlm"), or "unknown". */
  family: string;
  modelType?: string;
  /** Graph files found, per graph and variant (Hugging Face folders). */
  files?: { graph: string; variant: string; file: string }[];
  /** The variant the engine would run and its files. */
  runs?: { variant: string; vision: string; decoder: string; embed?: string };
  /** Each provider of this build (the engine's devices): whether the folder opens on it, and why not. */
  providers: { name: string; runs: boolean; error?: string }[];
  /** What is wrong or missing; empty when the folder runs. */
  problems: string[];
}

export async function checkModelFolder(folder: string): Promise<ModelCheck> {
  const dir = resolve(folder);
  const check: ModelCheck = { dir, family: 'unknown', providers: [], problems: [] };
  if (!existsSync(dir)) {
    check.problems.push(`${folder}: not found`);
    return check;
  }
  let modelType: string | undefined;
  try {
    modelType = hfModelType(dir);
  } catch (err) {
    check.problems.push((err as Error).message);
  }
  if (modelType !== undefined) {
    check.modelType = modelType;
    check.files = graphFiles(dir).map((f) => ({ graph: f.graph, variant: f.variant, file: relative(dir, f.path) }));
  }
  let loaded;
  try {
    loaded = loadModelFolder(dir);
  } catch (err) {
    check.problems.push((err as Error).message);
    return check;
  }
  check.family = loaded.hf?.family ?? 'sightline';
  check.runs = {
    variant: loaded.hf?.variant ?? 'fp32',
    vision: relative(dir, loaded.visionPath),
    decoder: relative(dir, loaded.decoderPath),
    ...(loaded.hf ? { embed: relative(dir, loaded.hf.embedTokensPath) } : {}),
  };
  const builtIn = await availableProviders();
  for (const name of DEVICES.filter((d) => builtIn.includes(d))) {
    try {
      const backend = await createOnnxBackend(loaded, { provider: name, intraOpThreads: 1, fallbackToCpu: false });
      await backend.dispose();
      check.providers.push({ name, runs: true });
    } catch (err) {
      check.providers.push({ name, runs: false, error: (err as Error).message.split('\n')[0] });
    }
  }
  // Runs nowhere: the CPU's reason is the folder's (a GPU's is often only the missing adapter).
  if (!check.providers.some((p) => p.runs)) check.problems.push(check.providers.find((p) => p.name === 'cpu')?.error ?? 'no provider runs it');
  return check;
}
