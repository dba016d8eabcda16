import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * Fails the suite if an ffmpeg started by this test run is still alive once all tests ran: no ffmpeg may
 * outlive its session or a test. The run marks its environment (inherited by vitest's workers and every
 * child they spawn), so ffmpeg processes of other programs on the machine are never counted.
 */
const MARK = 'SIGHTLINE_TEST_RUN';

function ourFfmpegPids(runId: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (comm !== 'ffmpeg' && comm !== 'ffprobe') continue;
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (env.split('\0').includes(`${MARK}=${runId}`)) pids.push(Number(entry));
    } catch {
      // The process exited while we looked: not a leftover.
    }
  }
  return pids;
}

export function setup(): void {
  process.env[MARK] = randomUUID();
}

export async function teardown(): Promise<void> {
  const runId = process.env[MARK]!;
  // Children get a moment to exit after their last kill.
  for (let i = 0; i < 30; i++) {
    if (ourFfmpegPids(runId).length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  const left = ourFfmpegPids(runId);
  if (left.length > 0) throw new Error(`ffmpeg processes left after the test suite: ${left.join(', ')}`);
}
