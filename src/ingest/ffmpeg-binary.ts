import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { SightlineError } from '../errors.js';

/**
 * Which ffmpeg / ffprobe Sightline runs: $SIGHTLINE_FFMPEG / $SIGHTLINE_FFPROBE if set, else the system
 * binary on PATH, else the static binary shipped inside the @ffmpeg-installer / @ffprobe-installer npm
 * packages (no download at install), so a fresh machine without ffmpeg still works.
 */
export interface BinaryInfo {
  path: string;
  origin: 'env' | 'system' | 'npm';
  version: string;
}

type Tool = 'ffmpeg' | 'ffprobe';

const cache = new Map<Tool, BinaryInfo>();
const require = createRequire(import.meta.url);

function versionOf(path: string): string | undefined {
  const out = spawnSync(path, ['-hide_banner', '-version'], { encoding: 'utf8', timeout: 10_000 });
  if (out.error || out.status !== 0) return undefined;
  const match = /version\s+(\S+)/.exec(out.stdout);
  return match ? match[1] : 'unknown';
}

function npmBinary(tool: Tool): string | undefined {
  try {
    const pkg = tool === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe';
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

function candidates(tool: Tool): Array<[string, BinaryInfo['origin']]> {
  const list: Array<[string, BinaryInfo['origin']]> = [];
  const fromEnv = process.env[tool === 'ffmpeg' ? 'SIGHTLINE_FFMPEG' : 'SIGHTLINE_FFPROBE'];
  if (fromEnv) return [[fromEnv, 'env']];
  const onPath = (spawnSync('/bin/sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout ?? '').trim();
  if (onPath) list.push([onPath, 'system']);
  const bundled = npmBinary(tool);
  if (bundled) list.push([bundled, 'npm']);
  return list;
}

export function findBinary(tool: Tool): BinaryInfo {
  const known = cache.get(tool);
  if (known) return known;
  const tried: string[] = [];
  for (const [path, origin] of candidates(tool)) {
    const version = versionOf(path);
    tried.push(path);
    if (version) {
      const info = { path, origin, version };
      cache.set(tool, info);
      return info;
    }
  }
  throw new SightlineError('ffmpeg_missing', `${tool}: no working binary found (tried ${tried.join(', ')})`);
}

export const ffmpegPath = (): string => findBinary('ffmpeg').path;
export const ffprobePath = (): string => findBinary('ffprobe').path;
