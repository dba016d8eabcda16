import { InvalidArgumentError } from 'commander';
import { CACHE_POLICIES, type CachePolicyName } from '../cache/index.js';
import { CAPTION_VERSIONS, WORLD_VERSIONS, type CaptionVersion, type WorldVersion } from '../synth/index.js';

/** commander option parsers that reject bad numbers with one clear line. */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a whole number >= 0, got "${value}"`);
  return n;
}

export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`expected a whole number > 0, got "${value}"`);
  return n;
}

export function probability(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`expected a probability in (0, 1], got "${value}"`);
  return n;
}

export function cachePolicyName(value: string): CachePolicyName {
  if (!(CACHE_POLICIES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${CACHE_POLICIES.join(', ')}, got "${value}"`);
  }
  return value as CachePolicyName;
}

/** "1" or "2": the world version (src/synth/types.ts). */
export function worldVersion(value: string): WorldVersion {
  const n = Number(value);
  if (!WORLD_VERSIONS.includes(n as WorldVersion)) throw new InvalidArgumentError(`expected a world version of ${WORLD_VERSIONS.join(' or ')}, got "${value}"`);
  return n as WorldVersion;
}

/** "1", "2" or "3": the clip caption version (src/synth/types.ts). */
export function captionVersion(value: string): CaptionVersion {
  const n = Number(value);
  if (!CAPTION_VERSIONS.includes(n as CaptionVersion)) throw new InvalidArgumentError(`expected a caption version of ${CAPTION_VERSIONS.slice(0, -1).join(', ')} or ${CAPTION_VERSIONS.at(-1)}, got "${value}"`);
  return n as CaptionVersion;
}
