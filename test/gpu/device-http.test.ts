/**
 * The device per stream over HTTP (POST /v1/streams {device}), with the real engine on the tiny model and a
 * synth match under a file root. No GPU adapter here (as in CI): a webgpu stream runs on the CPU pool with
 * the no-adapter notice, next to a cpu stream, and only one CPU pool exists.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevicePools } from '../../src/model/device-pools.js';
import { EnginePool } from '../../src/model/pool.js';
import { createServer, type RunningServer } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { sessionFactory } from '../../src/server/session-runner.js';
import type { StreamInfo } from '../../src/server/schemas.js';
import { FIXTURES } from '../model/helpers.js';
import { postJson, tempDir } from '../server/helpers.js';
import { scriptedFactory } from '../server/scripted-runner.js';

// No Vulkan driver for this process and its workers: WebGPU finds no adapter even on a GPU machine.
const NO_GPU = { VK_ICD_FILENAMES: '/nonexistent/icd.json', VK_DRIVER_FILES: '/nonexistent/icd.json', XDG_RUNTIME_DIR: '/tmp' };
Object.assign(process.env, NO_GPU);

const MODEL = join(FIXTURES, 'tiny-random-2l');
const NOTICE = /^device webgpu: no GPU adapter found \(.+\); running on the CPU instead$/;

let root: string;
beforeAll(() => {
  root = tempDir('sightline-device-media-');
  execFileSync(process.execPath, ['dist/src/cli.js', 'synth', '--seed', '6', '--seconds', '6', '--out', join(root, 'match.mp4')], { timeout: 120_000 });
});

async function getInfo(base: string, id: string): Promise<StreamInfo> {
  return (await (await fetch(`${base}/v1/streams/${id}`)).json()) as StreamInfo;
}

async function createStream(base: string, body: Record<string, unknown>): Promise<string> {
  const res = await postJson(base, '/v1/streams', { source: 'match.mp4', ...body });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

const final = (s: StreamInfo) => s.state === 'ended' || s.state === 'failed';

/** Polls the streams until every one is final. */
async function untilEnded(base: string, ids: string[], timeoutMs = 90_000): Promise<StreamInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ids.map((id) => getInfo(base, id)));
    if (infos.every(final)) return infos;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${ids.join(', ')} to end: ${infos.map((i) => i.state).join(', ')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('POST /v1/streams {device} with the real engine and no GPU adapter', () => {
  let pools: DevicePools;
  let server: RunningServer;
  const dataDir = tempDir();
  const notices: [string, string][] = [];
  const created: string[] = [];

  beforeAll(async () => {
    pools = await DevicePools.create({
      defaultDevice: 'cpu',
      create: (provider) => {
        created.push(provider);
        return EnginePool.create({ modelDir: MODEL, provider, workers: 1 });
      },
      onNotice: (device, notice) => notices.push([device, notice]),
    });
    server = await createServer({ factory: sessionFactory({ pools }), dataDir, port: 0, logger: createLogger('silent'), policy: { fileRoots: [root] } });
  });
  afterAll(async () => {
    await server?.close();
    await pools?.destroy();
  });

  it('a webgpu and a cpu stream run at once on one CPU pool; the webgpu one reports the fallback', async () => {
    const [gpuId, cpuId] = await Promise.all([createStream(server.url, { device: 'webgpu' }), createStream(server.url, { device: 'cpu' })]);
    // Both started (the file lasts 6 s at real time) before either ended.
    const running = await Promise.all([getInfo(server.url, gpuId), getInfo(server.url, cpuId)]);
    expect(running.map(final)).toEqual([false, false]);

    const [gpu, cpu] = await untilEnded(server.url, [gpuId, cpuId]);
    expect([gpu.state, cpu.state]).toEqual(['ended', 'ended']);
    expect(gpu.segments).toBeGreaterThan(0);
    expect(cpu.segments).toBeGreaterThan(0);
    expect(gpu.device).toEqual({ requested: 'webgpu', provider: 'cpu', kv: 'host', notice: expect.stringMatching(NOTICE) });
    expect(cpu.device).toEqual({ requested: 'cpu', provider: 'cpu', kv: 'host' });

    // One CPU pool: the webgpu fallback pool was destroyed, its notice heard once.
    expect(pools.pools().map((p) => p.device)).toEqual(['cpu']);
    expect(pools.pools()[0].pool.device.provider).toBe('cpu');
    expect(created).toEqual(['cpu', 'webgpu']);
    expect(notices).toEqual([['webgpu', expect.stringMatching(NOTICE)]]);

    // The transcripts hold the commentary the info counted.
    const transcript = await (await fetch(`${server.url}/v1/streams/${gpuId}/commentary.jsonl`)).text();
    expect(transcript.trim().split('\n').length).toBe(gpu.segments);
  }, 150_000);

  it('a stream without a device gets the server default (no `requested`)', async () => {
    const id = await createStream(server.url, {});
    const info = await getInfo(server.url, id);
    expect(info.device).toEqual({ provider: 'cpu', kv: 'host' });
    const res = await fetch(`${server.url}/v1/streams/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(200);
  }, 60_000);

  it('an unknown device is a 400 naming `device`, and starts nothing', async () => {
    const before = pools.pools().length;
    const res = await postJson(server.url, '/v1/streams', { source: 'match.mp4', device: 'tpu' });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('bad_input');
    expect(body.error.message).toMatch(/^device: .*cpu.*webgpu/);
    expect(pools.pools().length).toBe(before);
    // The OpenAPI document (generated from the same zod schema) lists the field and its values.
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    expect(doc.components.schemas.CreateStreamBody.properties.device.enum).toEqual(['cpu', 'webgpu']);
    expect(Object.keys(doc.components.schemas.StreamInfo.properties.device.properties).sort()).toEqual(['kv', 'notice', 'provider', 'requested']);
  });

  it('the device survives a restart: a new server on the same data dir lists it', async () => {
    const { factory } = scriptedFactory();
    const again = await createServer({ factory, dataDir, port: 0, logger: createLogger('silent') });
    try {
      const { streams } = (await (await fetch(`${again.url}/v1/streams`)).json()) as { streams: StreamInfo[] };
      const devices = streams.map((s) => s.device?.requested ?? 'default').sort();
      expect(devices).toEqual(['cpu', 'default', 'webgpu']);
      expect(streams.find((s) => s.device?.requested === 'webgpu')?.device?.notice).toMatch(NOTICE);
    } finally {
      await again.close();
    }
  });
});

describe('a device whose pool cannot start', () => {
  it('fails only that stream, with one clear error; the running stream goes on', async () => {
    const pools = await DevicePools.create({
      defaultDevice: 'cpu',
      // The webgpu pool gets a model folder that does not exist: a real EnginePool.create failure.
      create: (provider) => EnginePool.create({ modelDir: provider === 'cpu' ? MODEL : join(root, 'no-such-model'), provider, workers: 1 }),
    });
    const server = await createServer({ factory: sessionFactory({ pools }), dataDir: tempDir(), port: 0, logger: createLogger('silent'), policy: { fileRoots: [root] } });
    try {
      const cpuId = await createStream(server.url, { device: 'cpu' });
      const res = await postJson(server.url, '/v1/streams', { source: 'match.mp4', device: 'webgpu' });
      expect(res.status).toBeGreaterThanOrEqual(400);
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.message).toMatch(/^device webgpu: the engine could not start: .*no-such-model/);
      expect(final(await getInfo(server.url, cpuId))).toBe(false);
      expect(pools.pools().map((p) => p.device)).toEqual(['cpu']);
      const [cpu] = await untilEnded(server.url, [cpuId]);
      expect(cpu.state).toBe('ended');
      expect(cpu.segments).toBeGreaterThan(0);
    } finally {
      await server.close();
      await pools.destroy();
    }
  }, 150_000);
});
