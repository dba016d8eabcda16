/**
 * `sightline index` / `sightline search --model <folder>` with Hugging Face SigLIP and CLIP folders, end to
 * end on generated videos: the colour SigLIP written here (siglip-fixture.ts: the query's colour must rank its
 * video first, with SigLIP's probability beside the cosine), the tiny random SigLIP exported from transformers
 * (test/fixtures/models) beside a CLIP folder in one database, and a `--variant` the folder lacks.
 */
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { media } from '../ingest/media.js';
import { cli, ensureBuilt, jsonLines } from './helpers.js';
import { writeClipFixture } from './clip-fixture.js';
import { SIGLIP_FIXTURE, writeSiglipFixture } from './siglip-fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-hf-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'models');
const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

const colour = (c: string) => media(`flat-${c}-12s.mp4`, ['-f', 'lavfi', '-i', `color=c=${c}:size=160x90:rate=10:duration=12`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);

interface Hit {
  video: string;
  score: number;
  probability?: number;
}

describe('sightline index/search with Hugging Face SigLIP and CLIP folders', { timeout: 300_000 }, () => {
  it('indexes with the SigLIP towers, searches with its model.onnx (same vectors, same table), colour first', async () => {
    ensureBuilt();
    const towers = writeSiglipFixture(join(dir, 'siglip'));
    const combined = writeSiglipFixture(join(dir, 'siglip-combined'), { combined: true });
    const videos = await Promise.all(['red', 'lime', 'blue'].map(colour));
    const db = join(dir, 'db-colour');
    const r = cli(['index', ...videos, '--db', db, '--model', towers, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ indexed: 3, clipsAdded: 6, model: 'siglip:tiny-colour-siglip' });
    for (const [word, video] of [['green', videos[1]], ['red', videos[0]], ['blue', videos[2]]]) {
      const s = cli(['search', `the ${word} pitch`, '--db', db, '--model', combined, '--k', '6', '--json']);
      expect(s.status, s.stderr).toBe(0);
      const found = JSON.parse(s.stdout) as { model: string; results: Hit[] };
      expect(found.model).toBe('siglip:tiny-colour-siglip');
      expect(found.results.slice(0, 2).map((x) => x.video)).toEqual([video, video]);
      expect(found.results[0].score).toBeGreaterThan(0.9);
      // score is the cosine; probability SigLIP's sigmoid(scale * cos + bias), the scale and bias read off model.onnx.
      for (const x of found.results) expect(x.probability).toBeCloseTo(sigmoid(SIGLIP_FIXTURE.scale * x.score + SIGLIP_FIXTURE.bias), 4);
      expect(found.results[0].probability).toBeGreaterThan(0.9);
      expect(found.results.at(-1)!.probability).toBeLessThan(0.1);
    }
    const text = cli(['search', 'green', '--db', db, '--model', towers, '--k', '1']);
    expect(text.stdout).toMatch(/^(1\.000|0\.9\d\d) {2}0:\d\d\.\d-0:\d\d\.\d {2}.*flat-lime-12s\.mp4 {2}p=0\.9\d\d\n$/);
  });

  it('indexes and searches with the transformers-exported SigLIP, and a CLIP folder in the same database', async () => {
    ensureBuilt();
    const videos = await Promise.all(['red', 'lime'].map(colour));
    const siglip = join(FIXTURES, 'tiny-random-siglip-hf');
    const db = join(dir, 'db-random');
    const r = cli(['index', ...videos, '--db', db, '--model', siglip, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(jsonLines(r.stdout).at(-1)).toMatchObject({ indexed: 2, clipsAdded: 4, model: 'siglip:tiny-random-siglip-hf' });
    const found = JSON.parse(cli(['search', 'the keeper saves it', '--db', db, '--model', siglip, '--k', '10', '--json']).stdout) as { results: Hit[] };
    expect(found.results.length).toBe(4);
    const scoring = JSON.parse(readFileSync(join(siglip, 'sightline-scoring.json'), 'utf8')) as { logit_scale: number; logit_bias: number };
    for (const x of found.results) {
      expect(Math.abs(x.score)).toBeLessThanOrEqual(1 + 1e-6);
      expect(x.probability).toBeCloseTo(sigmoid(Math.exp(scoring.logit_scale) * x.score + scoring.logit_bias), 4);
    }
    expect(found.results.map((x) => x.score)).toEqual([...found.results.map((x) => x.score)].sort((a, b) => b - a));

    // A CLIP folder (graphs under onnx/, model_type clip) in the same database: its own table, no probability.
    const clip = writeClipFixture(join(dir, 'clip-colour'));
    mkdirSync(join(clip, 'onnx'));
    for (const f of ['vision_model.onnx', 'text_model.onnx']) renameSync(join(clip, f), join(clip, 'onnx', f));
    writeFileSync(join(clip, 'config.json'), JSON.stringify({ model_type: 'clip', _name_or_path: 'org/tiny-colour-clip', text_config: { max_position_embeddings: 16 } }));
    const c = cli(['index', videos[0], '--db', db, '--model', clip, '--json']);
    expect(c.status, c.stderr).toBe(0);
    expect(jsonLines(c.stdout).at(-1)).toMatchObject({ indexed: 1, clipsAdded: 2, clipsTotal: 2, model: 'clip:tiny-colour-clip' });
    const cs = JSON.parse(cli(['search', 'red', '--db', db, '--model', clip, '--json']).stdout) as { model: string; results: Hit[] };
    expect(cs.model).toBe('clip:tiny-colour-clip');
    expect(cs.results.length).toBe(2);
    expect(cs.results[0].probability).toBeUndefined();
    // A variant the folder lacks: one clear line.
    const bad = cli(['search', 'a red car', '--db', db, '--model', siglip, '--variant', 'q4']);
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/onnx\/vision_model_q4.onnx \+ onnx\/text_model_q4.onnx or onnx\/model_q4.onnx is missing; variants here: fp32 \(plain\)/);
  });
});
