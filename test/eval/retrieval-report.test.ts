import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELD_OUT_RENDER } from '../../eval/retrieval-data.js';
import { readTrainingReference, retrievalReport, writeRetrievalReport } from '../../eval/retrieval-report.js';
import type { RetrievalEvalResult } from '../../eval/retrieval-run.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-retrieval-report-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const py = { 'R@1': 61.4, 'R@5': 98, 'R@10': 100, MdR: 1, MnR: 1.7 };
function trainingReport(name: string, extra: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ ...extra, 'prompt-switch': { metrics: { textToVideo: py, videoToText: py } } }));
  return path;
}

describe('readTrainingReference and caption versions', () => {
  it('reads a report from before caption versions as version 1 only', () => {
    const old = trainingReport('old.json', { config: { render: { fps: 2 } } });
    expect(readTrainingReference(old)?.get('prompt-switch')?.textToVideo.r1).toBe(61.4);
    expect(readTrainingReference(old, 1)?.size).toBe(1);
    expect(readTrainingReference(old, 2)).toBeUndefined();
  });

  it('compares a version-2 run only with version-2 evaluations', () => {
    const v2 = trainingReport('v2.json', { captionVersion: 2, config: { render: { captionVersion: 2 } } });
    expect(readTrainingReference(v2, 1)).toBeUndefined();
    expect(readTrainingReference(v2, 2)?.get('prompt-switch')?.videoToText.meanRank).toBe(1.7);
  });
});

describe('the report names its caption version', () => {
  const s = { r1: 50, r5: 100, r10: 100, medianRank: 1, meanRank: 1.5 };
  const result: RetrievalEvalResult = {
    pairs: [0, 1].map((i) => ({ seed: 300000, video: 'v.mp4', start: i * 10, end: i * 10 + 10, caption: `c${i}`, frames: [] })),
    clipsRendered: 2,
    models: [{ dir: 'm', name: 'm', metrics: { textToVideo: s, videoToText: s }, similarity: new Float32Array([1, 0, 1, 0]), textToVideoRanks: new Int32Array([1, 2]), videoToTextRanks: new Int32Array([1, 2]), embedSeconds: 1 }],
    seconds: { total: 1, renderAndDecode: 1 },
  };

  it('in the markdown and the JSON', () => {
    const md = retrievalReport(result, { seeds: [300000], render: HELD_OUT_RENDER, captionVersion: 2, comparable: false });
    expect(md).toContain('Captions: version 2 (src/synth/captions-v2.ts, the clip told in order).');
    expect(retrievalReport(result, { seeds: [300000], render: HELD_OUT_RENDER, captionVersion: 1, comparable: false })).toContain('Captions: version 1 (src/synth/captions.ts).');
    writeRetrievalReport(join(dir, 'out'), result, { seeds: [300000], render: HELD_OUT_RENDER, captionVersion: 2, comparable: false });
    expect(JSON.parse(readFileSync(join(dir, 'out', 'retrieval.json'), 'utf8')).captionVersion).toBe(2);
  });
});
