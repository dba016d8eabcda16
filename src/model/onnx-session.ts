/**
 * The one place onnxruntime sessions are created, for the VLM engine (onnx-backend.ts) and the
 * retrieval encoders (encoders/) alike: provider, threads and optimisation set the same way, and a
 * failure told apart as a missing provider (`provider_unavailable`) or a bad file (`model_invalid`).
 */
import * as ort from 'onnxruntime-node';
import { SightlineError } from '../errors.js';
import type { GuardedSession } from './device-tensors.js';
import { isNoAdapterError, noAdapterMessage } from './providers.js';

export interface SessionSettings {
  /** Execution provider name: cpu, webgpu, cuda, ... */
  provider: string;
  /** onnxruntime intra-op threads per session (1 keeps several workers from fighting over cores). */
  intraOpThreads: number;
}

/**
 * Session options for the project's own graphs (`sightline-*` folders): they have no quantized activations,
 * so weights stored as int8 + DequantizeLinear (scripts/store-weights.ts) are folded into float32 constants
 * at load and run at float32 speed on every provider instead of dequantizing at each call. Not for folders
 * users bring: a QDQ-quantized model of theirs keeps onnxruntime's quantized kernels.
 */
export const FOLD_STORED_WEIGHTS: ort.InferenceSession.SessionOptions = { extra: { session: { disable_quant_qdq: '1' } } };

/**
 * onnxruntime plans and keeps a memory pattern for each set of input shapes a session runs (onnxruntime#11118).
 * The engine's calls change shape every second (past length, new rows, streams in the batch), so on the CPU the
 * kept patterns grew for many minutes after the caches were full: bench/engine-memory.ts (8 streams, full caches,
 * free-running, 400 s each) +51 MB with them, +2 MB and ~70 MB lower without, and no slower (5m32 against 5m53 of
 * CPU). SIGHTLINE_ORT_MEM_PATTERN=1 keeps them, for comparisons. Other providers keep onnxruntime's default (not
 * measured there).
 */
const KEEP_MEMORY_PATTERNS = process.env.SIGHTLINE_ORT_MEM_PATTERN === '1';
export const memoryPatterns = (provider: string): boolean => provider !== 'cpu' || KEEP_MEMORY_PATTERNS;

/**
 * The execution-provider entry and session config of a session on `provider`. On webgpu, for comparisons
 * (bench/decoder-call.ts, docs/gpu.md): SIGHTLINE_WEBGPU_VALIDATION sets the provider's `validationMode`
 * (disabled, wgpuOnly, basic, full) and SIGHTLINE_WEBGPU_PENDING its maxNumPendingDispatches (dispatches
 * recorded before a submit); unset, onnxruntime's defaults.
 */
export function providerOptions(provider: string, env: NodeJS.ProcessEnv = process.env): ort.InferenceSession.SessionOptions {
  if (provider !== 'webgpu') return { executionProviders: [provider] };
  const validation = env.SIGHTLINE_WEBGPU_VALIDATION;
  const pending = env.SIGHTLINE_WEBGPU_PENDING;
  return {
    executionProviders: [validation ? ({ name: 'webgpu', validationMode: validation } as ort.InferenceSession.ExecutionProviderConfig) : 'webgpu'],
    ...(pending ? { extra: { ep: { webgpuexecutionprovider: { maxNumPendingDispatches: pending } } } } : {}),
  };
}

/** Two option sets with their `extra` session configs merged (the rest: the second wins). */
export function mergeSessionOptions(a: ort.InferenceSession.SessionOptions, b: ort.InferenceSession.SessionOptions): ort.InferenceSession.SessionOptions {
  const extra = a.extra || b.extra ? { extra: mergeDeep(a.extra ?? {}, b.extra ?? {}) } : {};
  return { ...a, ...b, ...extra };
}

function mergeDeep(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === 'object' && v && typeof v === 'object' ? mergeDeep(prev as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Opens one graph file; errors name it as `${folderLabel}: file.onnx ...` (e.g. "model folder X"). */
export async function openSession(
  folderLabel: string,
  path: string,
  o: SessionSettings,
  extra: ort.InferenceSession.SessionOptions = {},
): Promise<GuardedSession> {
  const name = path.split('/').pop()!;
  try {
    const session = await ort.InferenceSession.create(path, mergeSessionOptions({
      ...providerOptions(o.provider),
      intraOpNumThreads: o.intraOpThreads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      enableMemPattern: memoryPatterns(o.provider),
    }, extra));
    return { name, provider: o.provider, session };
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0];
    if (isNoAdapterError(err)) throw new SightlineError('provider_unavailable', noAdapterMessage(o.provider, msg), { cause: err });
    // Tell a missing provider from a bad file: if the CPU provider loads the graph, the provider was the problem.
    if (o.provider !== 'cpu' && (await ort.InferenceSession.create(path).then((s) => s.release().then(() => true), () => false))) {
      throw new SightlineError('provider_unavailable', `execution provider "${o.provider}" failed to start: ${msg}`, { cause: err });
    }
    throw new SightlineError('model_invalid', `${folderLabel}: ${name} cannot be loaded: ${msg}`, { cause: err });
  }
}
