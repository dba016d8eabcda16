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
import { readFileSync } from 'node:fs';

export interface MemoryParts {
  mallocArenas: number;
  /** How many arenas were found (one per thread that malloc'd, up to glibc's limit of 8 per core). */
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

export function classify(maps: Mapping[]): MemoryParts {
  const parts: MemoryParts = { mallocArenas: 0, arenaCount: 0, brkHeap: 0, otherAnon: 0, files: 0 };
  maps.forEach((m, i) => {
    const next = maps[i + 1];
    if (m.path === '[heap]') parts.brkHeap += m.rssBytes;
    else if (m.path.startsWith('/')) parts.files += m.rssBytes;
    else if (m.path === '' && m.perms.startsWith('rw') && next && next.path === '' && next.perms.startsWith('---') && next.start === m.end && next.end % ARENA_ALIGN === 0n) {
      parts.mallocArenas += m.rssBytes;
      parts.arenaCount++;
    } else parts.otherAnon += m.rssBytes;
  });
  return parts;
}

/** The parts of a live process; undefined once it is gone. */
export function memoryParts(pid: number): MemoryParts | undefined {
  try {
    return classify(parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8')));
  } catch {
    return undefined;
  }
}
