/**
 * Loader for external evaluation data in the Inf-Streams layout: rows
 * `{"video": "...", "content": [[start, end, "text"], ...]}` with times in seconds.
 *
 * Formats: a `.jsonl` / `.ndjson` file holds one row per line (blank lines skipped); any other file is
 * read as JSON, either an array of rows or a single row object (a file that is not valid JSON and is not
 * named `.json` is read as JSONL). Validation (zod): `video` a non-empty string; `content` an array of
 * `[start, end, text]` with finite start and end, 0 <= start <= end, text a string (" ..." silence
 * allowed); other fields are ignored. The first problem found is raised as one
 * SightlineError('bad_input') naming the file, the row (1-based; JSONL also gives the line) and the
 * field, e.g. `data.jsonl: row 2 (line 3): content[4][1]: expected a number, got string`.
 */
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { SightlineError } from '../src/errors.js';
import type { ContentRow } from './windows.js';

export interface InfStreamsRow {
  video: string;
  content: ContentRow[];
}

const time = z.number({ error: (iss) => `expected a number, got ${iss.input === null ? 'null' : typeof iss.input}` }).refine(Number.isFinite, 'expected a finite number').refine((t) => t >= 0, 'expected a time >= 0');

const contentRow = z
  .tuple([time, time, z.string({ error: (iss) => `expected a string, got ${iss.input === null ? 'null' : typeof iss.input}` })], {
    error: (iss) => (Array.isArray(iss.input) ? `expected [start, end, text], got ${iss.input.length} items` : `expected [start, end, text], got ${iss.input === null ? 'null' : typeof iss.input}`),
  })
  .refine(([start, end]) => start <= end, { message: 'start is after end' });

const rowSchema = z.object(
  {
    video: z.string({ error: (iss) => (iss.input === undefined ? 'missing' : `expected a string, got ${typeof iss.input}`) }).min(1, 'must not be empty'),
    content: z.array(contentRow, { error: (iss) => (iss.input === undefined ? 'missing' : `expected an array of [start, end, text], got ${iss.input === null ? 'null' : typeof iss.input}`) }),
  },
  { error: (iss) => `expected an object {video, content}, got ${Array.isArray(iss.input) ? 'an array' : iss.input === null ? 'null' : typeof iss.input}` },
);

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out;
}

/** Validates one parsed row; `where` is e.g. "data.jsonl: row 2 (line 3)". */
export function parseInfStreamsRow(value: unknown, where: string): InfStreamsRow {
  const r = rowSchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    const at = pathText(issue.path);
    throw new SightlineError('bad_input', `${where}: ${at ? `${at}: ` : ''}${issue.message}`);
  }
  return { video: r.data.video, content: r.data.content.map(([s, e, t]) => [s, e, t] as const) };
}

function jsonError(err: unknown): string {
  return (err as Error)?.message?.replace(/\s+/g, ' ') ?? String(err);
}

/** Reads and validates a JSON or JSONL file of Inf-Streams rows. */
export async function loadInfStreams(file: string): Promise<InfStreamsRow[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SightlineError('bad_input', `${file}: cannot read the evaluation data: ${(err as NodeJS.ErrnoException).code ?? jsonError(err)}`, { cause: err });
  }
  const ext = extname(file).toLowerCase();
  let rows: InfStreamsRow[];
  if (ext === '.jsonl' || ext === '.ndjson') {
    rows = parseJsonl(file, text);
  } else {
    let parsed: unknown;
    let ok = true;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      ok = false;
      if (ext === '.json') throw new SightlineError('bad_input', `${file}: not valid JSON: ${jsonError(err)}`);
    }
    if (!ok) rows = parseJsonl(file, text);
    else if (Array.isArray(parsed)) rows = parsed.map((v, i) => parseInfStreamsRow(v, `${file}: row ${i + 1}`));
    else rows = [parseInfStreamsRow(parsed, `${file}: row 1`)];
  }
  if (rows.length === 0) throw new SightlineError('bad_input', `${file}: no rows (expected {"video", "content"} rows)`);
  return rows;
}

function parseJsonl(file: string, text: string): InfStreamsRow[] {
  const rows: InfStreamsRow[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    const where = `${file}: row ${rows.length + 1} (line ${i + 1})`;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (err) {
      throw new SightlineError('bad_input', `${where}: not valid JSON: ${jsonError(err)}`);
    }
    rows.push(parseInfStreamsRow(value, where));
  }
  return rows;
}

/** The row's video as a path: relative paths are taken relative to the data file's folder; URLs are kept. */
export function resolveVideo(dataFile: string, row: Pick<InfStreamsRow, 'video'>): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(row.video) || isAbsolute(row.video)) return row.video;
  return resolve(dirname(dataFile), row.video);
}
