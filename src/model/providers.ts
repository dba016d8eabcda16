import { SightlineError } from '../errors.js';

/** Execution providers this onnxruntime-node build ships or can load (cpu is always there). */
export async function availableProviders(): Promise<string[]> {
  const ort = await import('onnxruntime-node');
  const list = typeof ort.listSupportedBackends === 'function' ? ort.listSupportedBackends() : [{ name: 'cpu' }];
  return list.map((b) => b.name);
}

/** Fail early and clearly when the requested provider is not part of this build. */
export async function checkProvider(name: string): Promise<void> {
  const available = await availableProviders();
  if (!available.includes(name)) {
    throw new SightlineError(
      'provider_unavailable',
      `execution provider "${name}" is not available (this onnxruntime-node has: ${available.join(', ')})`,
    );
  }
}
