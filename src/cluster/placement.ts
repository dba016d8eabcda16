/**
 * Where unclaimed streams go: each to the live worker announcing the most free room (ties: the lower id),
 * one stream at a time, counting down that worker's room. Every worker computes the same plan from the same
 * announcements and claims only its own part, so placement follows capacity without a coordinator.
 */
import type { LoadSnapshot } from '../model/device-load.js';
import type { WorkerInfo } from './wire.js';

/** stream id -> worker id; streams no worker has room for are left out (reported by the gateways). */
export function planPlacement(unclaimed: readonly string[], workers: readonly WorkerInfo[]): Map<string, string> {
  const room = new Map(workers.map((w) => [w.id, w.free]));
  const plan = new Map<string, string>();
  for (const stream of unclaimed) {
    let best: string | undefined;
    for (const [id, free] of room) {
      if (free <= 0) continue;
      if (best === undefined || free > room.get(best)! || (free === room.get(best)! && id < best)) best = id;
    }
    if (best === undefined) break;
    plan.set(stream, best);
    room.set(best, room.get(best)! - 1);
  }
  return plan;
}

/** How many more streams an engine admits now: per engine worker, the room under the headroom over one stream's expected cost. */
export function freeStreams(load: LoadSnapshot): number {
  let free = 0;
  for (const w of load.workers) free += Math.max(0, Math.floor((load.headroom - w.load) / load.expectedCost + 1e-9));
  return free;
}
