/**
 * The engine with its K/V on the ONNX-graph ops (the GPU code path), run on the CPU provider: same greedy
 * tokens, logits and cache rows as the host store over a stream with evictions; every tensor released
 * when the stream closes. And `--device webgpu` without a GPU adapter: one notice, then the CPU.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { liveTensors } from '../../src/model/device-tensors.js';
import { loadModelFolder } from '../../src/model/model-folder.js';
import { createOnnxBackend } from '../../src/model/onnx-backend.js';
import { StreamEngine } from '../../src/model/stream-engine.js';
import { FIXTURES, loadTiny, maxAbsDiff, pixelsFor, smallCacheEngineOptions, type Tiny } from '../model/helpers.js';

// No Vulkan driver for this process and its children: WebGPU finds no adapter even on a GPU machine.
const NO_GPU = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json', XDG_RUNTIME_DIR: '/tmp' };
Object.assign(process.env, NO_GPU);

const OPTIONS = smallCacheEngineOptions('streaming', { temperature: 0, topP: 1 });

describe('engine with device-resident K/V ops (CPU provider) == host K/V', () => {
  let host: Tiny;
  let device: Tiny;
  afterAll(async () => {
    await host?.backend.dispose();
    await device?.backend.dispose();
  });

  it('same greedy tokens and cache rows after 20 seconds with evictions; all tensors released on close', async () => {
    host = await loadTiny('tiny-random-2l', 'host');
    device = await loadTiny('tiny-random-2l', 'device');
    const baseline = liveTensors().owned;
    const a = new StreamEngine(host.backend, host.tokenizer, host.folder.config, OPTIONS);
    const b = new StreamEngine(device.backend, device.tokenizer, device.folder.config, OPTIONS);
    expect(b.cache.store.ops.name).toBe('onnx:cpu');
    await a.restart([' Kick off.']);
    await b.restart([' Kick off.']);
    let evicted = 0;
    for (let sec = 0; sec < 20; sec++) {
      const input = { startSec: sec, endSec: sec + 1, pixelValues: pixelsFor(host.folder, sec), frames: 2 };
      const ra = await a.step(input);
      const rb = await b.step(input);
      expect(rb.tokenIds).toEqual(ra.tokenIds);
      expect(rb.cache).toEqual(ra.cache);
      evicted += rb.evictedRounds;
    }
    expect(evicted).toBeGreaterThan(10);
    const rows = await b.cache.store.read();
    for (let l = 0; l < host.folder.config.decoder.numLayers; l++) {
      expect(maxAbsDiff(rows.keys[l], a.cache.store.keyView(l))).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(rows.values[l], a.cache.store.valueView(l))).toBeLessThanOrEqual(1e-4);
    }
    const probe = await host.backend.embedIds(host.tokenizer.encode(' Goal').slice(0, 1));
    expect(maxAbsDiff(await b['backend'].decode(probe, 1, b.cache.store), await a['backend'].decode(probe, 1, a.cache.store))).toBeLessThanOrEqual(1e-4);
    expect(liveTensors().owned).toBeGreaterThan(baseline);
    b.dispose();
    expect(liveTensors()).toEqual({ owned: baseline, gpu: 0 });
  });
});

describe('--device webgpu without a GPU adapter', () => {
  it('the backend falls back to the CPU and says why, once', async () => {
    const folder = loadModelFolder(join(FIXTURES, 'tiny-random-1l'));
    const backend = await createOnnxBackend(folder, { provider: 'webgpu', intraOpThreads: 1 });
    try {
      expect(backend.provider).toBe('cpu');
      expect(backend.kv).toBe('host');
      expect(backend.notice).toMatch(/^device webgpu: no GPU adapter found \(.+\); running on the CPU instead$/);
    } finally {
      await backend.dispose();
    }
  });

  it('fails instead when fallback is off', async () => {
    const folder = loadModelFolder(join(FIXTURES, 'tiny-random-1l'));
    await expect(createOnnxBackend(folder, { provider: 'webgpu', intraOpThreads: 1, fallbackToCpu: false })).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: expect.stringMatching(/no GPU adapter found/),
    });
  });

  it('sightline watch --device webgpu prints one notice on stderr and the commentary on stdout', () => {
    const video = join(mkdtempSync(join(tmpdir(), 'sightline-gpu-')), 'match.mp4');
    execFileSync(process.execPath, ['dist/src/cli.js', 'synth', '--seed', '6', '--seconds', '3', '--out', video], { timeout: 120_000 });
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'watch', video, '--json', '--device', 'webgpu', '--model', join(FIXTURES, 'tiny-random-2l')], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, ...NO_GPU },
    });
    expect(r.status).toBe(0);
    const notices = r.stderr.split('\n').filter((l) => l.startsWith('sightline:'));
    expect(notices).toEqual([expect.stringMatching(/^sightline: device webgpu: no GPU adapter found .*running on the CPU instead$/)]);
    expect(r.stdout.trim().split('\n').map((l) => JSON.parse(l).start)).toEqual([0, 1, 2]);
  });

  it('rejects an unknown device name', () => {
    const r = spawnSync(process.execPath, ['dist/src/cli.js', 'watch', 'x', '--device', 'tpu'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/expected one of cpu, webgpu, got "tpu"/);
  });
});
