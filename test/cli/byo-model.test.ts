/**
 * A Hugging Face VLM folder through the CLI, as a user runs one: `watch --model` on a generated video and
 * `doctor --model` on good and broken folders (one clear line naming the file and the cause, no crash).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { qwen25Folder } from '../model/helpers.js';

const FIXTURE = join(import.meta.dirname, '..', 'fixtures', 'models', 'hf-smolvlm-tiny');
const QWEN = join(import.meta.dirname, '..', 'fixtures', 'models', 'hf-qwen2vl-tiny');
const QWEN25 = qwen25Folder(); // the Qwen2.5-VL fixture with the language model it shares with Qwen2-VL's
const work = mkdtempSync(join(tmpdir(), 'sightline-byo-'));
const cli = (args: string[]) => spawnSync(process.execPath, ['dist/src/cli.js', ...args], { encoding: 'utf8', timeout: 120_000 });

/** A copy of the fixture (or of `from`), changed by `edit`. */
function brokenCopy(name: string, edit: (dir: string) => void, from = FIXTURE): string {
  const dir = join(work, name);
  cpSync(from, dir, { recursive: true });
  edit(dir);
  return dir;
}

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  rmSync(join(QWEN25, '..'), { recursive: true, force: true });
});

/** `sightline watch --json --model MODEL` on a synthetic clip of `seconds` (seed `seed`): its lines, parsed; exit 0 asserted. */
function watchJson(model: string, name: string, seed: number, seconds: number): any[] {
  const video = join(work, name);
  execFileSync(process.execPath, ['dist/src/cli.js', 'synth', '--seed', String(seed), '--seconds', String(seconds), '--out', video], { timeout: 120_000 });
  const r = cli(['watch', video, '--json', '--model', model]);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

describe('sightline watch --model <Hugging Face SmolVLM folder>', () => {
  it('gives exactly one segment per second; a line is followed by minIntervalSec (3 s) of silence', () => {
    const lines = watchJson(FIXTURE, 'clip.mp4', 3, 8);
    expect(lines.map((l) => [l.start, l.end])).toEqual(Array.from({ length: 8 }, (_, s) => [s, s + 1]));
    const spoken = lines.filter((l) => l.text.trim() !== '').map((l) => l.start);
    expect(spoken[0]).toBe(0); // nothing said before: the first second is asked (random weights always speak)
    for (let i = 1; i < spoken.length; i++) expect(spoken[i] - spoken[i - 1]).toBeGreaterThanOrEqual(3);
    expect(spoken.length).toBeGreaterThanOrEqual(2);
  });
});

describe.each([
  ['Qwen2-VL', QWEN],
  ['Qwen2.5-VL', QWEN25],
])('sightline watch --model <Hugging Face %s folder>', (_name, dir) => {
  it('gives exactly one segment per second', () => {
    const lines = watchJson(dir, 'qwen-clip.mp4', 5, 6);
    expect(lines.map((l) => [l.start, l.end])).toEqual(Array.from({ length: 6 }, (_, s) => [s, s + 1]));
    expect(lines[0].text.trim()).not.toBe(''); // the first second is asked (random weights speak)
  });
});

describe('sightline doctor --model', () => {
  it('names the Qwen2-VL family and its files', () => {
    const r = cli(['doctor', '--json', '--model', QWEN]);
    expect(r.status, r.stderr).toBe(0);
    const { model } = JSON.parse(r.stdout);
    expect(model).toMatchObject({ family: 'qwen2_vl', modelType: 'qwen2_vl', problems: [] });
    expect(model.runs).toEqual({ variant: 'fp32', vision: 'onnx/vision_encoder.onnx', decoder: 'onnx/decoder_model_merged.onnx', embed: 'onnx/embed_tokens.onnx' });
    expect(model.providers).toContainEqual({ name: 'cpu', runs: true });
  });

  it('names the Qwen2.5-VL model type (the qwen2_vl family)', () => {
    const r = cli(['doctor', '--json', '--model', QWEN25]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).model).toMatchObject({ family: 'qwen2_vl', modelType: 'qwen2_5_vl', problems: [] });
  });

  it('Qwen2.5-VL at more than one temporal group a second: one problem naming sightline.json', () => {
    const dir = brokenCopy('qwen25-fps', (d) => writeFileSync(join(d, 'sightline.json'), JSON.stringify({ framesPerSecond: 4 })), QWEN25);
    const r = cli(['doctor', '--json', '--model', dir]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).model.problems).toEqual([expect.stringMatching(/sightline\.json: framesPerSecond 4 makes 2 temporal groups a second; Sightline runs Qwen2\.5-VL at one group a second \(at most 2 frames\)/)]);
  });

  it('a Qwen2-VL vision graph without grid_thw: exit 1 and one problem naming the file and the inputs', () => {
    const dir = brokenCopy('qwen-inputs', (d) => copyFileSync(join(d, 'onnx', 'embed_tokens.onnx'), join(d, 'onnx', 'vision_encoder.onnx')), QWEN);
    const r = cli(['doctor', '--json', '--model', dir]);
    expect(r.status).toBe(1);
    const { model } = JSON.parse(r.stdout);
    expect(model.problems).toEqual([expect.stringMatching(/onnx\/vision_encoder\.onnx lacks input pixel_values, grid_thw \(has input_ids;/)]);
  });

  it('Qwen2-VL rotary sections that do not cover the head: one problem naming config.json', () => {
    const dir = brokenCopy('qwen-mrope', (d) => {
      const config = JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'));
      config.text_config.rope_parameters.mrope_section = [2, 3, 2];
      writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    }, QWEN);
    const r = cli(['doctor', '--json', '--model', dir]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).model.problems).toEqual([expect.stringMatching(/config\.json: mrope_section \[2,3,2\] must be 3 numbers summing to head_dim \/ 2 \(8\)/)]);
  });

  it('names the family, the variants found, what runs and on which providers', () => {
    const r = cli(['doctor', '--json', '--model', FIXTURE]);
    expect(r.status, r.stderr).toBe(0);
    const { model } = JSON.parse(r.stdout);
    expect(model).toMatchObject({ family: 'smolvlm', modelType: 'smolvlm', problems: [] });
    expect(model.runs).toEqual({ variant: 'fp32', vision: 'onnx/vision_encoder.onnx', decoder: 'onnx/decoder_model_merged.onnx', embed: 'onnx/embed_tokens.onnx' });
    expect(model.files).toContainEqual({ graph: 'decoder_model_merged', variant: 'int8', file: 'onnx/decoder_model_merged_int8.onnx' });
    expect(model.providers).toContainEqual({ name: 'cpu', runs: true });
  });

  it.each([
    ['a missing graph', 'missing', (d: string) => rmSync(join(d, 'onnx', 'embed_tokens.onnx')), /onnx\/embed_tokens\.onnx missing/],
    ['an unknown family', 'unknown', (d: string) => writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'blip_2' })), /model_type "blip_2" is not a family Sightline runs/],
    ['a known family not run yet', 'llava', (d: string) => writeFileSync(join(d, 'config.json'), JSON.stringify({ model_type: 'llava' })), /"llava" .*not supported yet/],
    ['a decoder graph with other inputs', 'inputs', (d: string) => copyFileSync(join(d, 'onnx', 'embed_tokens.onnx'), join(d, 'onnx', 'decoder_model_merged.onnx')), /onnx\/decoder_model_merged\.onnx lacks input inputs_embeds, attention_mask, position_ids, past_key_values\.0\.key/],
    ['a template without images', 'template', (d: string) => {
      const path = join(d, 'tokenizer_config.json');
      writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), chat_template: '{% for m in messages %}{{ m.role }}{% endfor %}' }));
    }, /chat_template: the chat template drops the image/],
    ['a variant that is not there', 'variant', (d: string) => writeFileSync(join(d, 'sightline.json'), JSON.stringify({ variant: 'q4' })), /variant "q4" has no onnx\/decoder_model_merged_q4\.onnx \(found: fp32, int8\)/],
  ])('%s: exit 1 and one problem naming the file and the cause', (_what, name, edit, message) => {
    const dir = brokenCopy(name, edit);
    const r = cli(['doctor', '--json', '--model', dir]);
    expect(r.status).toBe(1);
    const { model } = JSON.parse(r.stdout);
    expect(model.problems).toHaveLength(1);
    expect(model.problems[0]).toMatch(message);
  });

  it('watch on a broken folder fails with that one line, not a stack', () => {
    const dir = brokenCopy('watch-missing', (d) => rmSync(join(d, 'onnx', 'embed_tokens.onnx')));
    const r = cli(['watch', join(work, 'nothing.mp4'), '--model', dir]);
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/onnx\/embed_tokens\.onnx missing/);
  });
});
