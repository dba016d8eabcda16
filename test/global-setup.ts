import { execSync } from 'node:child_process';

/**
 * Fails the suite if any ffmpeg child is left behind once all tests ran: no ffmpeg may outlive its
 * session or a test. Only ffmpeg processes started after the suite began are considered.
 */
function ffmpegPids(): Set<number> {
  try {
    const out = execSync('pgrep -x ffmpeg', { encoding: 'utf8' });
    return new Set(out.split('\n').filter(Boolean).map(Number));
  } catch {
    return new Set();
  }
}

let before = new Set<number>();

export function setup(): void {
  before = ffmpegPids();
}

export async function teardown(): Promise<void> {
  // Children get a moment to exit after their last kill.
  for (let i = 0; i < 20; i++) {
    const left = [...ffmpegPids()].filter((pid) => !before.has(pid));
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const left = [...ffmpegPids()].filter((pid) => !before.has(pid));
  if (left.length > 0) throw new Error(`ffmpeg processes left after the test suite: ${left.join(', ')}`);
}
