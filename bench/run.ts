/**
 * The bench index behind `npm run bench`. With no name it lists the benches of this folder (each file whose
 * doc comment has its `npx tsx bench/<name>.ts` usage line) with the first line of their description; with
 * a name it runs that bench through tsx, passing the remaining arguments on, and exits with its status.
 *
 *   npm run bench                                   # the list
 *   npm run bench -- synth-render --seconds 30      # = npx tsx bench/synth-render.ts --seconds 30
 *
 * The GPU checks (bench/gpu/) run from the device bundle instead: docs/gpu.md.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const BENCH_DIR = import.meta.dirname;

interface Bench {
  name: string;
  file: string;
  summary: string;
}

/** The benches: .ts files here that document their own usage line (helpers and this index do not). */
function listBenches(dir = BENCH_DIR): Bench[] {
  const benches: Bench[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (!entry.endsWith('.ts')) continue;
    const name = basename(entry, '.ts');
    const text = readFileSync(join(dir, entry), 'utf8');
    if (!text.includes(`npx tsx bench/${name}.ts`)) continue;
    benches.push({ name, file: join(dir, entry), summary: summaryOf(text) });
  }
  return benches;
}

/** The first sentence of the file's doc comment (up to its first blank line), at most ~110 characters. */
function summaryOf(text: string): string {
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(text)?.[1] ?? '';
  const lines: string[] = [];
  for (const line of doc.split('\n').map((l) => l.replace(/^\s*\*?\s?/, '').trim())) {
    if (!line && lines.length > 0) break;
    if (line) lines.push(line);
  }
  const sentence = lines.join(' ').split(/(?<=[.?])\s/)[0].replace(/\.$/, '');
  return sentence.length > 110 ? `${sentence.slice(0, sentence.lastIndexOf(' ', 107))} ...` : sentence;
}

function printList(benches: Bench[]): void {
  const width = Math.max(...benches.map((b) => b.name.length));
  console.log('Benchmarks and diagnostics in bench/ (run one: npm run bench -- <name> [args]):');
  for (const b of benches) console.log(`  ${b.name.padEnd(width)}  ${b.summary}`);
  console.log('Usage and options of one: the doc comment at the top of bench/<name>.ts.');
}

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const benches = listBenches();
  if (!name || name === '--help' || name === '-h' || name === 'list') return printList(benches);
  const bench = benches.find((b) => b.name === name);
  if (!bench) {
    console.error(`bench: no benchmark named "${name}" (run \`npm run bench\` for the list)`);
    process.exitCode = 2;
    return;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', bench.file, ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (c, s) => resolve([c, s])));
  process.exitCode = code ?? (signal ? 1 : 0);
}

await main();
