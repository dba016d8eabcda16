/**
 * A stream that names its model: `serve --model A --allow-model B`, then POST /v1/streams {"model": "B"} runs B
 * (a Hugging Face SmolVLM folder) beside A's streams; a name the server does not run is one 400 listing those it does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postJson } from './helpers.js';

const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures', 'models');
let serve: ChildProcess | undefined;

afterAll(async () => {
  if (serve && serve.exitCode === null) {
    serve.kill('SIGKILL');
    await new Promise((r) => serve!.once('exit', r));
  }
});

async function startServe(root: string): Promise<string> {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-models-'));
  const args = ['dist/src/cli.js', 'serve', '--port', '0', '--data', data, '--workers', '1', '--no-search', '--file-root', root,
    '--model', path.join(FIXTURES, 'tiny-random-1l'), '--allow-model', path.join(FIXTURES, 'hf-smolvlm-tiny')];
  serve = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SIGHTLINE_LOG_LEVEL: 'warn' } });
  let out = '';
  return new Promise((resolve, reject) => {
    serve!.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /serving at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    serve!.once('exit', (code) => reject(new Error(`serve exited (${code}): ${out}`)));
  });
}

async function streamInfo(base: string, id: string): Promise<{ state: string; segments: number; model?: { name: string } }> {
  return (await fetch(`${base}/v1/streams/${id}`)).json();
}

describe('POST /v1/streams {model}', () => {
  it('runs the named model beside the default; an unknown name is a 400 naming the ones served', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-models-media-'));
    const video = path.join(root, 'clip.mp4');
    execFileSync(process.execPath, ['dist/src/cli.js', 'synth', '--seed', '4', '--seconds', '6', '--out', video], { timeout: 120_000 });
    const base = await startServe(root);

    const unknown = await postJson(base, '/v1/streams', { source: video, model: 'nope' });
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toMatch(/body\.model: \\"nope\\" is not a model this server runs \(it runs \\"tiny-random-1l\\", \\"hf-smolvlm-tiny\\"/);

    const byo = await postJson(base, '/v1/streams', { source: video, model: 'hf-smolvlm-tiny' });
    const plain = await postJson(base, '/v1/streams', { source: video });
    expect([byo.status, plain.status]).toEqual([201, 201]);
    const [byoId, plainId] = [(await byo.json()).id, (await plain.json()).id];
    // Wait until both have commentary: each names the model it runs.
    for (let i = 0; i < 120; i++) {
      const [a, b] = [await streamInfo(base, byoId), await streamInfo(base, plainId)];
      if (a.segments > 0 && b.segments > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const [a, b] = [await streamInfo(base, byoId), await streamInfo(base, plainId)];
    expect(a.segments).toBeGreaterThan(0);
    expect(b.segments).toBeGreaterThan(0);
    expect(a.model?.name).toBe('hf-smolvlm-tiny');
    expect(b.model?.name).toBe('tiny-random-1l');
  });
});
