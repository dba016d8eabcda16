/**
 * One EnginePool per device, so each stream can choose where it runs (`POST /v1/streams {device}`).
 * The default device's pool is created at startup (as before); the others on first use, memoised:
 * concurrent first requests share one creation. A pool that asked for a GPU and fell back to the CPU
 * (no GPU adapter) is not kept as a second CPU pool: it is destroyed, its streams go to the CPU pool
 * (created here if needed, with the CPU's worker count) and they keep the fallback notice.
 */
import { SightlineError, isSightlineError } from '../errors.js';
import type { EnginePool } from './pool.js';

/** Where a device's streams actually run; `notice` says why it is not the device asked for. */
export interface PoolDevice {
  provider: string;
  kv: string;
  notice?: string;
}

/** What DevicePools needs from a pool (EnginePool; tests pass fakes). */
export interface DevicePool {
  readonly device: PoolDevice;
  destroy(): Promise<void>;
}

export interface ResolvedPool<P extends DevicePool = EnginePool> {
  pool: P;
  device: PoolDevice;
}

export interface DevicePoolsOptions<P extends DevicePool = EnginePool> {
  /** Creates the pool of one device (e.g. EnginePool.create with that device and its worker count). */
  create: (device: string) => Promise<P>;
  /** The device of streams that name none (what `serve --device`/SIGHTLINE_DEVICE/the model chose). */
  defaultDevice: string;
  /** Hears each pool's fallback notice once (serve logs it). */
  onNotice?: (device: string, notice: string) => void;
}

export class DevicePools<P extends DevicePool = EnginePool> {
  private readonly entries = new Map<string, Promise<ResolvedPool<P>>>();
  /** The pools this owns (fallback pools are destroyed, not kept), by the device they were created for. */
  private readonly kept = new Map<string, P>();
  private closed = false;

  constructor(private readonly options: DevicePoolsOptions<P>) {}

  /** The pools with the default one already started (its failure fails startup, as before). */
  static async create<P extends DevicePool = EnginePool>(options: DevicePoolsOptions<P>): Promise<DevicePools<P>> {
    const pools = new DevicePools(options);
    await pools.get();
    return pools;
  }

  get defaultDevice(): string {
    return this.options.defaultDevice;
  }

  /** The pool for `device` (default: the default device), created on first use. */
  get(device: string = this.options.defaultDevice): Promise<ResolvedPool<P>> {
    if (this.closed) return Promise.reject(new SightlineError('worker_failed', `device ${device}: the engine pools are closed`));
    let entry = this.entries.get(device);
    if (!entry) {
      const created = this.resolve(device);
      entry = created;
      this.entries.set(device, created);
      // A failed creation is forgotten, so a later stream asking for this device tries again.
      created.catch(() => {
        if (this.entries.get(device) === created) this.entries.delete(device);
      });
    }
    return entry;
  }

  /** The distinct pools alive now, by the device they were created for (one CPU pool at most). */
  pools(): { device: string; pool: P }[] {
    return [...this.kept].map(([device, pool]) => ({ device, pool }));
  }

  /** Destroys every pool, including those still being created. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.entries.values()]);
    const pools = [...this.kept.values()];
    this.kept.clear();
    this.entries.clear();
    await Promise.all(pools.map((p) => p.destroy()));
  }

  private async resolve(device: string): Promise<ResolvedPool<P>> {
    let pool: P;
    try {
      pool = await this.options.create(device);
    } catch (err) {
      throw creationError(device, err);
    }
    if (this.closed) {
      await pool.destroy();
      throw new SightlineError('worker_failed', `device ${device}: the engine pools are closed`);
    }
    const info = { ...pool.device };
    if (info.notice) this.options.onNotice?.(device, info.notice);
    if (device !== 'cpu' && info.provider === 'cpu' && info.notice) {
      // A fallback is a CPU pool with the GPU's worker count: use the real CPU pool instead.
      await pool.destroy();
      const cpu = await this.get('cpu');
      return { pool: cpu.pool, device: { provider: cpu.device.provider, kv: cpu.device.kv, notice: info.notice } };
    }
    this.kept.set(device, pool);
    return { pool, device: info };
  }
}

/** One error naming the device; the cause's code is kept (model_invalid, provider_unavailable, ...). */
function creationError(device: string, err: unknown): SightlineError {
  const message = `device ${device}: the engine could not start: ${(err as Error)?.message ?? String(err)}`;
  return new SightlineError(isSightlineError(err) ? err.code : 'worker_failed', message, { cause: err });
}
