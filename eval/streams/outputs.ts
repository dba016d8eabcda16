/**
 * Per-second outputs of one (match, policy) run, one JSON line per second, appended and written through
 * to the OS as each second finishes (so an interrupted run loses at most the second in progress):
 *
 *   {"start_time": 1000, "end_time": 1001, "response": " ...", "step_ms": 31.2, "kv_tokens": 1851,
 *    "kv_bytes": 1895424, "rss_bytes": 201326592}
 *
 * `start_time`, `end_time`, `response` are the Inf-Streams-Eval output row; the rest is the efficiency
 * record of that second (engine step time in the worker, KV rows in use and their bytes, process RSS).
 * A second the policy could not produce (`full` past its cap) has `response: null` and no efficiency
 * fields. A finished run also has `<policy>.done.json` ({@link RunSummary}); a run without it is partial.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';

export interface OutputRow {
  start_time: number;
  end_time: number;
  /** null: not produced (e.g. `full` after its cache cap). */
  response: string | null;
  step_ms?: number;
  kv_tokens?: number;
  kv_bytes?: number;
  rss_bytes?: number;
}

export interface RunSummary {
  policy: string;
  /** Stream seconds the run covered: [fromSec, toSec). */
  fromSec: number;
  toSec: number;
  /** `full`: end time of the last second produced before the cache was full; null when it never filled. */
  capSec: number | null;
  /** Session restarts the policy made on purpose (`resets`). */
  resets: number;
  wallSec: number;
  /** Seconds regenerated on resume whose response differed from the saved one (should be 0: greedy). */
  resumeMismatches: number;
}

/** Reads the rows saved so far; a torn last line (killed mid-write) is ignored. */
export function readRows(file: string): OutputRow[] {
  if (!existsSync(file)) return [];
  const rows: OutputRow[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(JSON.parse(line) as OutputRow);
    } catch {
      break;
    }
  }
  return rows;
}

/**
 * Appends rows for one run. Resume: rows already on disk are kept; when the run regenerates a second
 * that is already saved, the response is compared (a mismatch is counted) and nothing is written.
 */
export class RowWriter {
  private readonly saved = new Map<number, string | null>();
  mismatches = 0;

  constructor(private readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    const rows = readRows(file);
    // Rewrite without a torn tail so appends start on a clean line.
    writeFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    for (const r of rows) this.saved.set(r.start_time, r.response);
  }

  get savedSeconds(): number {
    return this.saved.size;
  }

  has(startSec: number): boolean {
    return this.saved.has(startSec);
  }

  write(row: OutputRow): void {
    if (this.saved.has(row.start_time)) {
      if (this.saved.get(row.start_time) !== row.response) this.mismatches++;
      return;
    }
    this.saved.set(row.start_time, row.response);
    appendFileSync(this.file, `${JSON.stringify(row)}\n`);
  }
}

export function readSummary(file: string): RunSummary | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RunSummary;
}

/** Written last, through a rename, so a summary on disk always means a complete run. */
export function writeSummary(file: string, summary: RunSummary): void {
  writeFileSync(`${file}.tmp`, `${JSON.stringify(summary, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}
