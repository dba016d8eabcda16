/**
 * A process's resident memory split by kind of mapping, from /proc/<pid>/smaps (Linux): what bench/soak.ts
 * samples beside the server's own per-thread heap figures (/metrics), so a growing RSS can be placed.
 *
 * - `mallocArenas`: glibc's per-thread malloc arenas. Each is one 64 MiB-aligned reservation whose used
 *   front is read-write and whose tail is PROT_NONE, so a read-write anonymous mapping directly followed
 *   by a `---p` one that ends on a 64 MiB boundary is taken for one (a heuristic; a neighbour merged into
 *   the front is counted with it).
 * - `brkHeap`: the main arena (`[heap]`).
 * - `otherAnon`: every other anonymous mapping: V8 heap pages of all threads, large mallocs (glibc mmaps
 *   blocks of 128 KiB and more), onnxruntime's and LanceDB's big buffers, thread stacks.
 * - `files`: file-backed mappings (code of node and the native addons, mapped model files).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface MemoryParts {
  mallocArenas: number;
  /** How many arena heaps were found (an arena per thread that malloc'd, up to glibc's limit of 8 per core; a
   *  full arena adds another heap). */
  arenaCount: number;
  brkHeap: number;
  otherAnon: number;
  files: number;
}

const ARENA_ALIGN = 64n * 2n ** 20n;

interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rssBytes: number;
}

/** The mappings of an smaps text with their Rss. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      out.push({ start: BigInt('0x' + head[1]), end: BigInt('0x' + head[2]), perms: head[3], path: head[4], rssBytes: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && out.length > 0) out[out.length - 1].rssBytes = Number(rss[1]) * 1024;
  }
  return out;
}

/** Whether maps[i] is the used front of a malloc arena heap (the rule in the file comment). */
export function isArenaHeap(maps: Mapping[], i: number): boolean {
  const m = maps[i];
  const next = maps[i + 1];
  return m.path === '' && m.perms.startsWith('rw') && next !== undefined && next.path === '' && next.perms.startsWith('---') && next.start === m.end && next.end % ARENA_ALIGN === 0n;
}

export function classify(maps: Mapping[]): MemoryParts {
  const parts: MemoryParts = { mallocArenas: 0, arenaCount: 0, brkHeap: 0, otherAnon: 0, files: 0 };
  maps.forEach((m, i) => {
    if (m.path === '[heap]') parts.brkHeap += m.rssBytes;
    else if (m.path.startsWith('/')) parts.files += m.rssBytes;
    else if (isArenaHeap(maps, i)) {
      parts.mallocArenas += m.rssBytes;
      parts.arenaCount++;
    } else parts.otherAnon += m.rssBytes;
  });
  return parts;
}

/** Each malloc arena heap: its start address and resident bytes (to see which of them grows). */
export function arenaHeaps(maps: Mapping[]): { start: bigint; rssBytes: number }[] {
  return maps.filter((_, i) => isArenaHeap(maps, i)).map(({ start, rssBytes }) => ({ start, rssBytes }));
}

/** The parts of a live process; undefined once it is gone. */
export function memoryParts(pid: number): MemoryParts | undefined {
  try {
    return classify(parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8')));
  } catch {
    return undefined;
  }
}

/** A process's threads now: id, name and CPU used (clock ticks, user + system); gone threads are left out. */
export function threadsOf(pid: number): { tid: number; name: string; cpuTicks: number }[] {
  const out: { tid: number; name: string; cpuTicks: number }[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ tid: Number(tid), name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), cpuTicks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** `npx tsx bench/proc-memory.ts PID`: the parts of a running process and its arena heaps (address: MB), in MB. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const maps = parseSmaps(readFileSync(`/proc/${process.argv[2]}/smaps`, 'utf8'));
  const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
  const { arenaCount, ...parts } = classify(maps);
  console.log(`${Object.entries(parts).map(([k, v]) => `${k} ${mb(v)}`).join(', ')}; ${arenaCount} arena heaps`);
  console.log(arenaHeaps(maps).map((h) => `${h.start.toString(16)}: ${mb(h.rssBytes)}`).join(' '));
}
