/**
 * Which thread of the server made the anonymous mappings its RSS is in, at each smaps snapshot of a soak run with
 * `--trace-mmap DIR` (bench/soak.ts): the trace's mmap/munmap/mremap calls are replayed up to each snapshot's time,
 * and each mapping's resident bytes are shared among the live calls' ranges it covers (the kernel merges
 * neighbouring ranges into one mapping). glibc's arena heaps (bench/proc-memory.ts) are named by the thread whose
 * malloc mapped them (glibc grows them in place, without mmap). Kinds: `hint` (an address asked for: V8's pages) or `any` (malloc's large blocks,
 * stacks), each `none` (reserved, committed later by mprotect) or `rw`.
 *
 *   npx tsx bench/mmap-owners.ts DIR [--sizes TID,...]    # --sizes: the sizes of those threads' live `any-rw` blocks
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isArenaHeap, parseSmaps } from './proc-memory.js';

const { values, positionals } = parseArgs({ options: { sizes: { type: 'string' } }, allowPositionals: true });
const dir = positionals[0];
if (!dir) {
  console.error('usage: npx tsx bench/mmap-owners.ts DIR [--sizes TID,...]');
  process.exit(2);
}
const jsonLines = <T>(file: string): T[] => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);

interface Range {
  start: bigint;
  end: bigint;
  tid: number;
  kind: string;
}
interface Call {
  wallSec: number;
  tid: number;
  name: string;
  args: string[];
  ret: string;
}

/** The calls of the server's threads (strace -f also follows its ffmpeg children: their calls are left out). */
function readTrace(): Call[] {
  const calls: Call[] = [];
  const threads = new Set<number>();
  const pending = new Map<string, string>();
  for (const line of readFileSync(join(dir, 'strace.txt'), 'utf8').split('\n')) {
    const m = /^(\d+)\s+([\d.]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [tid, wallSec, rest] = [Number(m[1]), Number(m[2]), m[3]];
    if (threads.size === 0) threads.add(tid); // strace's first line is the server's main thread
    let name: string;
    let text: string;
    const resumed = /^<\.\.\. (\w+) resumed>(.*)$/.exec(rest);
    const call = /^(\w+)\((.*)$/.exec(rest);
    if (resumed) [name, text] = [resumed[1], (pending.get(`${tid} ${resumed[1]}`) ?? '') + resumed[2]];
    else if (call && rest.endsWith('<unfinished ...>')) {
      pending.set(`${tid} ${call[1]}`, call[2].slice(0, -' <unfinished ...>'.length));
      continue;
    } else if (call) [name, text] = [call[1], call[2]];
    else continue;
    const ret = /= (\S+)/.exec(text.slice(text.lastIndexOf(') = ')))?.[1] ?? '';
    if (name.startsWith('clone')) {
      if (threads.has(tid) && text.includes('CLONE_THREAD') && /^\d+$/.test(ret)) threads.add(Number(ret));
      continue;
    }
    if (threads.has(tid)) calls.push({ wallSec, tid, name, args: text.split(',').map((a) => a.trim()), ret });
  }
  return calls;
}

let live: Range[] = [];
function unmap(start: bigint, end: bigint): void {
  const out: Range[] = [];
  for (const r of live) {
    if (r.end <= start || r.start >= end) out.push(r);
    else {
      if (r.start < start) out.push({ ...r, end: start });
      if (r.end > end) out.push({ ...r, start: end });
    }
  }
  live = out;
}
function apply(c: Call): void {
  if (c.name === 'mmap' && c.args.join().includes('MAP_ANONYMOUS') && c.ret.startsWith('0x')) {
    const start = BigInt(c.ret);
    const end = start + BigInt(c.args[1]);
    unmap(start, end);
    live.push({ start, end, tid: c.tid, kind: `${c.args[0] === 'NULL' ? 'any' : 'hint'}-${c.args[2].includes('PROT_NONE') ? 'none' : 'rw'}` });
  } else if (c.name === 'munmap' && c.ret === '0') {
    const start = BigInt(c.args[0]);
    unmap(start, start + BigInt(c.args[1].split(')')[0]));
  } else if (c.name === 'mremap' && c.ret.startsWith('0x')) {
    const old = BigInt(c.args[0]);
    const owner = live.find((r) => r.start <= old && old < r.end);
    unmap(old, old + BigInt(c.args[1]));
    if (owner) live.push({ ...owner, start: BigInt(c.ret), end: BigInt(c.ret) + BigInt(c.args[2]) });
  }
}

/** Resident bytes by "tid kind" (and "arena heaps", "not traced") of one smaps snapshot against the live ranges. */
function attribute(smapsText: string): Map<string, number> {
  const by = new Map<string, number>();
  const add = (key: string, bytes: number): void => void by.set(key, (by.get(key) ?? 0) + bytes);
  const maps = parseSmaps(smapsText);
  const sorted = [...live].sort((a, b) => (a.start < b.start ? -1 : 1));
  maps.forEach((m, i) => {
    if (m.path !== '' || m.rssBytes === 0) return;
    // An arena heap is told apart by its shape; it is named by the thread whose malloc made it (a thread keeps
    // using the arena it got, though others may share it).
    const arena = isArenaHeap(maps, i) ? 'arena heap of ' : '';
    const size = Number(m.end - m.start);
    let covered = 0;
    for (const r of sorted) {
      if (r.start >= m.end) break;
      const overlap = Number((r.end < m.end ? r.end : m.end) - (r.start > m.start ? r.start : m.start));
      if (overlap <= 0) continue;
      add(arena ? `${arena}${r.tid}` : `${r.tid} ${r.kind}`, (m.rssBytes * overlap) / size);
      covered += overlap;
    }
    if (covered < size) add(arena ? 'arena heaps, not traced' : 'not traced', (m.rssBytes * (size - covered)) / size);
  });
  return by;
}

const calls = readTrace();
const threads = new Map<number, { name: string; cpuTicks: number }>();
for (const s of jsonLines<{ threads: { tid: number; name: string; cpuTicks: number }[] }>('threads.jsonl')) for (const t of s.threads) threads.set(t.tid, t);
const snapshots = jsonLines<{ tSec: number; wallSec: number; file: string }>('snapshots.jsonl');
const columns: Map<string, number>[] = [];
let next = 0;
for (const s of snapshots) {
  while (next < calls.length && calls[next].wallSec <= s.wallSec) apply(calls[next++]);
  columns.push(attribute(readFileSync(join(dir, s.file), 'utf8')));
}

const mb = (b: number): string => (b / 2 ** 20).toFixed(1).padStart(7);
const label = (key: string): string => {
  const arena = key.startsWith('arena heap of ') ? 'arena heap of ' : '';
  const [tid, kind] = key.slice(arena.length).split(' ');
  const t = threads.get(Number(tid));
  return t ? `${arena}${tid} ${t.name} (${t.cpuTicks} ticks)${kind ? ` ${kind}` : ''}` : key;
};
const keys = [...new Set(columns.flatMap((c) => [...c.keys()]))].sort((a, b) => (columns.at(-1)!.get(b) ?? 0) - (columns.at(-1)!.get(a) ?? 0));
console.log(`resident MB by the thread that mapped it, at each snapshot (soak seconds; CPU ticks at the last sample)`);
console.log(`${'thread, kind'.padEnd(48)}${snapshots.map((s) => String(Math.round(s.tSec)).padStart(7)).join('')}`);
for (const k of keys) {
  const row = columns.map((c) => c.get(k) ?? 0);
  if (Math.max(...row) >= 2 ** 20) console.log(`${label(k).slice(0, 47).padEnd(48)}${row.map(mb).join('')}`);
}
for (const tid of (values.sizes ?? '').split(',').filter(Boolean).map(Number)) {
  const sizes = new Map<bigint, number>();
  for (const r of live) if (r.tid === tid && r.kind === 'any-rw') sizes.set(r.end - r.start, (sizes.get(r.end - r.start) ?? 0) + 1);
  console.log(`${tid}: live any-rw blocks at the last snapshot (bytes x count): ${[...sizes].map(([b, n]) => `${b} x ${n}`).join(', ')}`);
}
