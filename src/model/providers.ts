import { SightlineError } from '../errors.js';

export interface ProviderInfo {
  name: string;
  /** false: the provider needs libraries of the host (drivers), not shipped in the npm package */
  bundled: boolean;
}

/** Execution providers this onnxruntime-node build ships or can load, with whether each is bundled. */
export async function providerInfo(): Promise<ProviderInfo[]> {
  const ort = await import('onnxruntime-node');
  if (typeof ort.listSupportedBackends !== 'function') return [{ name: 'cpu', bundled: true }];
  return (ort.listSupportedBackends() as Partial<ProviderInfo>[]).map((b) => ({ name: b.name!, bundled: b.bundled ?? true }));
}

/** Execution providers this onnxruntime-node build ships or can load (cpu is always there). */
export async function availableProviders(): Promise<string[]> {
  return (await providerInfo()).map((b) => b.name);
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

/** `--device`: where the engine runs. `webgpu` = WebGPU provider (Dawn over Vulkan) with the KV cache in GPU memory. */
export const DEVICES = ['cpu', 'webgpu'] as const;
export type Device = (typeof DEVICES)[number];

/** The WebGPU provider found no GPU (no Vulkan driver/adapter): the one case we fall back to the CPU for. */
export function isNoAdapterError(err: unknown): boolean {
  const msg = (err as Error)?.message ?? String(err);
  return /Failed to get a WebGPU adapter|no (supported )?adapters?/i.test(msg);
}

export function noAdapterMessage(provider: string, detail: string): string {
  const why = /No supported adapters/i.test(detail) ? 'no supported adapters' : detail.replace(/^.*\) /, '').trim();
  return `device ${provider}: no GPU adapter found (${why})`;
}
