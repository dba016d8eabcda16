/** CPU time of another process from /proc (Linux): what process.cpuUsage() cannot see, e.g. worker processes. */
import { readFileSync } from 'node:fs';

/** User + system CPU seconds of process `pid` so far (0 once it is gone). */
export function processCpuSec(pid: number): number {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime (fields 14, 15) in clock ticks of 1/100 s
  } catch {
    return 0;
  }
}
