import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/errors.js';
import { loadInfStreams, resolveVideo } from '../../eval/inf-streams-data.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-infstreams-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function failure(p: string): Promise<SightlineError> {
  const err = await loadInfStreams(p).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SightlineError);
  expect((err as SightlineError).code).toBe('bad_input');
  return err as SightlineError;
}

const good = { video: 'match1.mp4', content: [[0, 1, 'Kick-off!'], [1, 2, ' ...'], [2, 3.5, 'Red on the ball.']] };

describe('loadInfStreams', () => {
  it('reads JSONL (blank lines skipped), a JSON array and a single JSON row', async () => {
    const jsonl = file('ok.jsonl', `${JSON.stringify(good)}\n\n${JSON.stringify({ video: '/abs/m2.mp4', content: [], extra: 1 })}\n`);
    expect(await loadInfStreams(jsonl)).toEqual([good, { video: '/abs/m2.mp4', content: [] }]);
    expect(await loadInfStreams(file('ok.json', JSON.stringify([good, good])))).toEqual([good, good]);
    expect(await loadInfStreams(file('one.json', JSON.stringify(good)))).toEqual([good]);
    // Not .json and not valid JSON as a whole: read as JSONL.
    expect(await loadInfStreams(file('rows.txt', `${JSON.stringify(good)}\n${JSON.stringify(good)}`))).toHaveLength(2);
  });

  it('rejects malformed rows with one error naming the file, the row and the problem', async () => {
    const bad = (name: string, rows: unknown[]) => file(name, rows.map((r) => JSON.stringify(r)).join('\n'));
    const cases: [string, string, RegExp][] = [
      [bad('a.jsonl', [good, { ...good, content: [[0, 1, 'x'], [2, 'three', 'y']] }]), 'row 2 (line 2)', /content\[1\]\[1\]: expected a number, got string/],
      [bad('b.jsonl', [{ content: [] }]), 'row 1 (line 1)', /video: missing/],
      [bad('c.jsonl', [{ video: '', content: [] }]), 'row 1 (line 1)', /video: must not be empty/],
      [bad('d.jsonl', [good, good, { video: 'v', content: [[5, 4, 'x']] }]), 'row 3 (line 3)', /content\[0\]: start is after end/],
      [bad('e.jsonl', [{ video: 'v', content: [[1, 2]] }]), 'row 1 (line 1)', /content\[0\]: expected \[start, end, text\], got 2 items/],
      [bad('f.jsonl', [{ video: 'v', content: 'nope' }]), 'row 1 (line 1)', /content: expected an array of \[start, end, text\], got string/],
      [bad('g.jsonl', [{ video: 'v', content: [[-1, 2, 'x']] }]), 'row 1 (line 1)', /content\[0\]\[0\]: expected a time >= 0/],
      [bad('h.jsonl', [[1, 2, 3]]), 'row 1 (line 1)', /expected an object \{video, content\}, got an array/],
      [file('i.jsonl', `${JSON.stringify(good)}\n\n{"video": "v", "content": [}\n`), 'row 2 (line 3)', /not valid JSON/],
      [file('j.json', JSON.stringify([good, { video: 'v', content: [[0, 1, 7]] }])), 'row 2', /content\[0\]\[2\]: expected a string, got number/],
    ];
    for (const [p, where, problem] of cases) {
      const err = await failure(p);
      expect(err.message.startsWith(`${p}: ${where}: `), err.message).toBe(true);
      expect(err.message).toMatch(problem);
    }
  });

  it('rejects unreadable, invalid and empty files clearly', async () => {
    expect((await failure(join(dir, 'missing.jsonl'))).message).toBe(`${join(dir, 'missing.jsonl')}: cannot read the evaluation data: ENOENT`);
    expect((await failure(file('broken.json', '{"video": '))).message).toMatch(/broken\.json: not valid JSON/);
    expect((await failure(file('empty.jsonl', '\n\n'))).message).toMatch(/empty\.jsonl: no rows/);
  });

  it('resolves relative videos next to the data file', () => {
    expect(resolveVideo('/data/set/rows.jsonl', { video: 'v/m1.mp4' })).toBe('/data/set/v/m1.mp4');
    expect(resolveVideo('/data/set/rows.jsonl', { video: '/abs/m1.mp4' })).toBe('/abs/m1.mp4');
    expect(resolveVideo('/data/set/rows.jsonl', { video: 'rtsp://cam/1' })).toBe('rtsp://cam/1');
  });
});
