/** What workers and gateways write into NATS, validated on the way in (a malformed entry is skipped with its reason). */
import { z } from 'zod';
import { DEVICES } from '../model/providers.js';

/** A wanted stream (KV STREAMS_BUCKET): what POST /v1/streams asked for, and whether it is still wanted. */
export const WantedStream = z.object({
  id: z.string(),
  source: z.string(),
  fps: z.number(),
  prompt: z.string().optional(),
  device: z.enum(DEVICES).optional(),
  createdAt: z.string(),
  /** wanted: some worker should run it; stopped: DELETE asked; ended/failed: its session ended by itself. */
  state: z.enum(['wanted', 'stopped', 'ended', 'failed']),
});
export type WantedStream = z.infer<typeof WantedStream>;

/** A lease (KV LEASES_BUCKET): the worker running a stream. Renewed by compare-and-set on its revision. */
export const Lease = z.object({ worker: z.string(), since: z.string() });
export type Lease = z.infer<typeof Lease>;

/** A worker's announcement (KV WORKERS_BUCKET): how many more streams its engine admits now. */
export const WorkerInfo = z.object({ id: z.string(), free: z.number().int().min(0), running: z.array(z.string()), at: z.string() });
export type WorkerInfo = z.infer<typeof WorkerInfo>;

export const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** Parses a KV or message payload against `schema`; undefined (never a throw) when it does not match. */
export function decode<T>(schema: z.ZodType<T>, data: Uint8Array): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(new TextDecoder().decode(data)));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
