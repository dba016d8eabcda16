/**
 * Retrieval encoders: the shipped sightline-retrieval folder through the worker, and bring-your-own
 * CLIP ONNX folders (a tiny generated fixture, clip-fixture.ts) as mean-pooling video encoders, down
 * to indexing and searching real video files with one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIP_DEFAULTS, createEncoderRuntime, EncoderClient, l2Normalize, loadEncoderFolder, loadRetrievalModelFolder } from '../../src/model/index.js';
import { media } from '../ingest/media.js';
import { writeClipFixture } from './clip-fixture.js';
import { RETRIEVAL_MODEL, cli, ensureBuilt, jsonLines } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'sightline-encoder-'));
const fixture = writeClipFixture(join(dir, 'tiny-clip'));

/** `frames` frames of one flat colour, w x h RGB24. */
function flat(rgb: [number, number, number], frames: number, w: number, h: number): Uint8Array {
  const out = new Uint8Array(frames * w * h * 3);
  for (let i = 0; i < out.length; i += 3) out.set(rgb, i);
  return out;
}

describe('CLIP ONNX folders (bring your own encoder)', () => {
  it('reads image size, mean and std from preprocessor_config.json, and CLIP defaults without it', () => {
    const spec = loadEncoderFolder(fixture);
    expect(spec).toMatchObject({ layout: 'clip', name: 'clip:tiny-colour-clip', imageWidth: 32, imageHeight: 32, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], maxTokens: 16, framesPerClip: 8, clipSeconds: 10 });
    const bare = writeClipFixture(join(dir, 'bare'));
    rmSync(join(bare, 'preprocessor_config.json'));
    rmSync(join(bare, 'config.json'));
    expect(loadEncoderFolder(bare)).toMatchObject({ name: 'clip:bare', imageWidth: 224, imageHeight: 224, mean: [...CLIP_DEFAULTS.mean], std: [...CLIP_DEFAULTS.std], maxTokens: 77 });
  });

  it('embeds a clip as the L2-normed mean of its L2-normed frame embeddings', async () => {
    const rt = await createEncoderRuntime(loadEncoderFolder(fixture));
    try {
      // Frame embeddings are the normalised mean colour: red (1, -1, -1), green (-1, 1, -1) (see clip-fixture.ts).
      const red = flat([255, 0, 0], 1, 32, 32);
      const green = flat([0, 255, 0], 3, 32, 32);
      const clip = new Uint8Array(red.length + green.length);
      clip.set(red);
      clip.set(green, red.length);
      const [v] = await rt.embedClips([{ rgb: clip, frames: 4 }]);
      const r = l2Normalize(Float32Array.from([1, -1, -1, 0, 0, 0, 0, 0]));
      const g = l2Normalize(Float32Array.from([-1, 1, -1, 0, 0, 0, 0, 0]));
      const want = l2Normalize(r.map((x, i) => (x + 3 * g[i]) / 4));
      expect(v.length).toBe(8);
      for (let i = 0; i < 8; i++) expect(v[i]).toBeCloseTo(want[i], 5);
      // The text graph has no attention_mask input: only input_ids are fed. Unknown words are dropped.
      const t = await rt.embedText('GREEN zebra pitch');
      expect(t[1]).toBeGreaterThan(0.5);
      expect(t[0]).toBeLessThan(-0.5);
    } finally {
      await rt.release();
    }
  });

  it('refuses folders that are neither layout, with one line naming the folder', () => {
    expect(() => loadEncoderFolder(join(dir, 'nope'))).toThrow(/encoder folder .*nope: not found/);
    const other = join(dir, 'other');
    writeClipFixture(other);
    rmSync(join(other, 'vision_model.onnx'));
    writeFileSync(join(other, 'config.json'), JSON.stringify({ format: 'sightline-streaming-vlm' }));
    expect(() => loadEncoderFolder(other)).toThrow(/config.json format is "sightline-streaming-vlm", expected "sightline-retrieval"/);
    const broken = writeClipFixture(join(dir, 'broken'));
    writeFileSync(join(broken, 'text_model.onnx'), '');
    expect(() => loadEncoderFolder(broken)).toThrow(/text_model.onnx is missing or empty/);
  });
});

describe('EncoderClient (worker thread)', () => {
  let client: EncoderClient;
  beforeAll(async () => {
    client = await EncoderClient.create(RETRIEVAL_MODEL);
  });
  afterAll(async () => {
    await client?.close();
  });

  it('gives the same vectors as the in-thread runtime for the shipped model', async () => {
    const spec = loadEncoderFolder(RETRIEVAL_MODEL);
    expect(spec).toMatchObject({ layout: 'sightline-retrieval', name: 'sightline-retrieval-v1', imageWidth: 256, imageHeight: 144, framesPerClip: 8, clipSeconds: 10, maxTokens: 96 });
    const rt = await createEncoderRuntime(spec);
    try {
      const rgb = new Uint8Array(8 * 256 * 144 * 3).map((_, i) => (i * 7919) % 255);
      const tail = rgb.slice(0, 3 * 256 * 144 * 3);
      const [a, b] = await client.embedClips([{ rgb, frames: 8 }, { rgb: tail, frames: 3 }]);
      const [x, y] = await rt.embedClips([{ rgb, frames: 8 }, { rgb: tail, frames: 3 }]);
      expect(client.embedDim).toBe(256);
      for (let i = 0; i < 256; i++) {
        expect(a[i]).toBeCloseTo(x[i], 5);
        expect(b[i]).toBeCloseTo(y[i], 5);
      }
      const q = 'Blue vs Black, 1st minute of the first half: Black score';
      const [tc, tr] = [await client.embedText(q), await rt.embedText(q)];
      for (let i = 0; i < 256; i++) expect(tc[i]).toBeCloseTo(tr[i], 5);
      // eval's batched captions (right-padded, masked, 2 per call here) equal one-by-one queries.
      const caps = [q, 'corner to Red', 'Red number 9 shoots from a tight angle and the keeper saves'];
      const batched = await rt.embedTexts(caps, 2);
      expect(batched.length).toBe(3);
      for (let c = 0; c < 3; c++) {
        const one = await rt.embedText(caps[c]);
        for (let i = 0; i < 256; i++) expect(batched[c][i]).toBeCloseTo(one[i], 5);
      }
      expect(loadRetrievalModelFolder(RETRIEVAL_MODEL)).toEqual({ ...spec, variant: 'prompt-switch' });
    } finally {
      await rt.release();
    }
  });

  it('rejects a clip of the wrong size with bad_input and keeps serving', async () => {
    await expect(client.embedClips([{ rgb: new Uint8Array(10), frames: 1 }])).rejects.toMatchObject({ code: 'bad_input' });
    expect((await client.embedText('corner to Red')).length).toBe(256);
  });
});

describe('sightline index/search with a CLIP folder', { timeout: 180_000 }, () => {
  it('indexes real video files and the colour named in the query ranks its video first', async () => {
    ensureBuilt();
    const colour = (c: string) => media(`flat-${c}-12s.mp4`, ['-f', 'lavfi', '-i', `color=c=${c}:size=160x90:rate=10:duration=12`, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']);
    const videos = await Promise.all(['red', 'lime', 'blue'].map(colour));
    const db = join(dir, 'clip-db');
    const r = cli(['index', ...videos, '--db', db, '--model', fixture, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const summary = jsonLines(r.stdout).at(-1);
    // 12 s at 10 s clips: one full clip and a 2 s tail clip per video.
    expect(summary).toMatchObject({ indexed: 3, clipsAdded: 6, model: 'clip:tiny-colour-clip' });
    for (const [word, video] of [['green', videos[1]], ['red', videos[0]], ['blue', videos[2]]]) {
      const found = JSON.parse(cli(['search', `the ${word} pitch`, '--db', db, '--model', fixture, '--k', '6', '--json']).stdout);
      expect(found.model).toBe('clip:tiny-colour-clip');
      expect(found.results.slice(0, 2).map((x: { video: string }) => x.video)).toEqual([video, video]);
      expect(found.results[0].score).toBeGreaterThan(0.9);
    }
  });
});
