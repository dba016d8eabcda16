/** DevicePools with fake pools: memoised lazy creation, the GPU->CPU fallback collapse, failures, destroy. */
import { describe, expect, it } from 'vitest';
import { DevicePools, type DevicePool, type PoolDevice } from '../../src/model/device-pools.js';
import { SightlineError } from '../../src/errors.js';

const NOTICE = 'device webgpu: no GPU adapter found (no supported adapters); running on the CPU instead';

class FakePool implements DevicePool {
  destroyed = 0;
  constructor(readonly name: string, readonly device: PoolDevice) {}
  async destroy(): Promise<void> {
    this.destroyed++;
  }
}

/** A factory that records each creation; `gpu: false` makes webgpu fall back like a machine without an adapter. */
function fakeFactory(o: { gpu: boolean; fail?: Set<string> }) {
  const created: FakePool[] = [];
  const create = async (device: string): Promise<FakePool> => {
    await new Promise((r) => setTimeout(r, 5)); // creation takes time: concurrent callers overlap
    if (o.fail?.has(device)) throw new SightlineError('provider_unavailable', `execution provider "${device}" is not available`);
    const info: PoolDevice =
      device === 'webgpu' && !o.gpu ? { provider: 'cpu', kv: 'host', notice: NOTICE } : { provider: device, kv: device === 'cpu' ? 'host' : 'device' };
    const pool = new FakePool(`${device}#${created.length}`, info);
    created.push(pool);
    return pool;
  };
  return { create, created };
}

describe('DevicePools', () => {
  it('creates the default pool at startup and the others once, on first use, shared by concurrent requests', async () => {
    const f = fakeFactory({ gpu: true });
    const pools = await DevicePools.create({ create: f.create, defaultDevice: 'cpu' });
    expect(f.created.map((p) => p.name)).toEqual(['cpu#0']);
    const [a, b, c] = await Promise.all([pools.get('webgpu'), pools.get('webgpu'), pools.get()]);
    expect(f.created.map((p) => p.name)).toEqual(['cpu#0', 'webgpu#1']);
    expect(a.pool).toBe(b.pool);
    expect(a.device).toEqual({ provider: 'webgpu', kv: 'device' });
    expect(c.pool).toBe(f.created[0]);
    expect((await pools.get('cpu')).pool).toBe(f.created[0]);
    expect(pools.pools().map((p) => p.device)).toEqual(['cpu', 'webgpu']);
    await pools.destroy();
  });

  it('a webgpu pool that fell back to the CPU is destroyed; webgpu streams share the CPU pool and keep the notice', async () => {
    const f = fakeFactory({ gpu: false });
    const notices: [string, string][] = [];
    const pools = await DevicePools.create({ create: f.create, defaultDevice: 'cpu', onNotice: (d, n) => notices.push([d, n]) });
    const [gpu1, gpu2] = await Promise.all([pools.get('webgpu'), pools.get('webgpu')]);
    const cpu = await pools.get('cpu');
    expect(gpu1).toBe(gpu2);
    expect(gpu1.pool).toBe(cpu.pool);
    expect(gpu1.device).toEqual({ provider: 'cpu', kv: 'host', notice: NOTICE });
    expect(cpu.device.notice).toBeUndefined();
    const fallback = f.created.find((p) => p.name.startsWith('webgpu'))!;
    expect(fallback.destroyed).toBe(1);
    expect(pools.pools()).toEqual([{ device: 'cpu', pool: cpu.pool }]);
    expect(notices).toEqual([['webgpu', NOTICE]]); // once, however many streams asked
    await pools.destroy();
  });

  it('a webgpu default without a GPU ends with one CPU pool (created for the fallback)', async () => {
    const f = fakeFactory({ gpu: false });
    const pools = await DevicePools.create({ create: f.create, defaultDevice: 'webgpu' });
    const def = await pools.get();
    expect(def.device).toEqual({ provider: 'cpu', kv: 'host', notice: NOTICE });
    expect(f.created.map((p) => [p.name, p.destroyed])).toEqual([
      ['webgpu#0', 1],
      ['cpu#1', 0],
    ]);
    expect((await pools.get('cpu')).pool).toBe(def.pool);
    expect(pools.pools().map((p) => p.device)).toEqual(['cpu']);
    await pools.destroy();
  });

  it('a pool that cannot start fails with one error naming the device, keeps the others, and is retried later', async () => {
    const fail = new Set(['webgpu']);
    const f = fakeFactory({ gpu: true, fail });
    const pools = await DevicePools.create({ create: f.create, defaultDevice: 'cpu' });
    await expect(pools.get('webgpu')).rejects.toMatchObject({
      code: 'provider_unavailable',
      message: 'device webgpu: the engine could not start: execution provider "webgpu" is not available',
    });
    expect(pools.pools().map((p) => p.device)).toEqual(['cpu']);
    fail.clear();
    expect((await pools.get('webgpu')).device.provider).toBe('webgpu');
    await pools.destroy();
  });

  it('destroy() closes every pool, also one still being created, and refuses later requests', async () => {
    const f = fakeFactory({ gpu: true });
    const pools = await DevicePools.create({ create: f.create, defaultDevice: 'cpu' });
    const pending = pools.get('webgpu');
    pending.catch(() => undefined);
    await pools.destroy();
    await expect(pending).rejects.toMatchObject({ code: 'worker_failed' });
    expect(f.created.map((p) => [p.name, p.destroyed])).toEqual([
      ['cpu#0', 1],
      ['webgpu#1', 1],
    ]);
    expect(pools.pools()).toEqual([]);
    await expect(pools.get('cpu')).rejects.toMatchObject({ code: 'worker_failed', message: expect.stringMatching(/closed/) });
  });
});
