/**
 * Per-stream transcripts on disk, append-only, surviving restarts and kill -9.
 *
 *   <dataDir>/streams/<id>/meta.json         stream description + state (replaced atomically)
 *   <dataDir>/streams/<id>/transcript.jsonl  one commentary segment per line, appended
 *
 * Durability: each segment is written with one write(2) as soon as it is published, so a crash of
 * the process loses nothing the kernel accepted; fsync runs every `fsyncIntervalMs` (default 5 s)
 * and on close, so a power loss costs at most that much. A torn last line (kill -9 mid-write) is
 * skipped on read; a line is only valid JSON ending in a newline.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { DEVICES } from '../model/providers.js';

export const DEFAULT_FSYNC_INTERVAL_MS = 5000;

export const Segment = z.object({
  start: z.number(),
  end: z.number(),
  text: z.string(),
  tokens: z.number().int().optional(),
  latencyMs: z.number().optional(),
  /** A gap line: [start, end) had no picture, for this reason (text is ""). See docs/server.md. */
  gap: z.string().optional(),
});
export type Segment = z.infer<typeof Segment>;

export const StoredMeta = z.object({
  id: z.string(),
  source: z.string(),
  fps: z.number(),
  prompt: z.string().optional(),
  createdAt: z.string(),
  endedAt: z.string().optional(),
  /**
   * The stream's state as last written: `starting` until it runs, `live` while it runs, then `ended` or
   * `failed`. A non-final state found at start-up means the server died while the stream ran: it resumes.
   */
  state: z.string(),
  /** false: do not resume after a crash (the demo's stream, whose source dies with the server). */
  resume: z.boolean().optional(),
  /** When a restarted server last resumed this stream (ISO 8601). */
  resumedAt: z.string().optional(),
  /** The model the stream asked for by name (POST /v1/streams {model}); a restart resumes it on the same one. */
  model: z.string().optional(),
  /** Where the engine ran (StreamInfo.device), so a restart's listing still shows it. */
  device: z
    .object({ requested: z.enum(DEVICES).optional(), provider: z.string(), kv: z.string(), notice: z.string().optional() })
    .optional(),
});
export type StoredMeta = z.infer<typeof StoredMeta>;

export class TranscriptWriter {
  private fd: number | undefined;
  private dirty = false;
  private readonly timer: NodeJS.Timeout;
  count: number;

  constructor(
    private readonly file: string,
    fsyncIntervalMs: number,
    existing: number,
  ) {
    this.fd = fs.openSync(file, 'a');
    this.count = existing;
    // Repair a torn tail so the next line starts on its own.
    const size = fs.fstatSync(this.fd).size;
    if (size > 0) {
      const last = Buffer.alloc(1);
      const readFd = fs.openSync(file, 'r');
      fs.readSync(readFd, last, 0, 1, size - 1);
      fs.closeSync(readFd);
      if (last[0] !== 0x0a) fs.writeSync(this.fd, '\n');
    }
    this.timer = setInterval(() => this.sync(), fsyncIntervalMs);
    this.timer.unref();
  }

  append(segment: Segment): void {
    if (this.fd === undefined) return;
    fs.writeSync(this.fd, `${JSON.stringify(segment)}\n`);
    this.dirty = true;
    this.count++;
  }

  sync(): void {
    if (this.fd === undefined || !this.dirty) return;
    fs.fsyncSync(this.fd);
    this.dirty = false;
  }

  close(): void {
    clearInterval(this.timer);
    if (this.fd === undefined) return;
    this.sync();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

export class TranscriptStore {
  private readonly root: string;

  constructor(
    dataDir: string,
    private readonly fsyncIntervalMs = DEFAULT_FSYNC_INTERVAL_MS,
  ) {
    this.root = path.join(dataDir, 'streams');
    fs.mkdirSync(this.root, { recursive: true });
  }

  /** Starts a stream's folder and returns its writer. */
  create(meta: StoredMeta): TranscriptWriter {
    fs.mkdirSync(this.dir(meta.id), { recursive: true });
    this.writeMeta(meta);
    return new TranscriptWriter(this.file(meta.id), this.fsyncIntervalMs, this.readSegments(meta.id).length);
  }

  /** Replaces meta.json atomically (write to a temp file, fsync, rename). */
  writeMeta(meta: StoredMeta): void {
    const tmp = path.join(this.dir(meta.id), `meta.json.${process.pid}.tmp`);
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, JSON.stringify(meta));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, path.join(this.dir(meta.id), 'meta.json'));
  }

  /** Every stream found on disk; folders with a missing or unreadable meta.json are skipped. */
  list(): StoredMeta[] {
    const metas: StoredMeta[] = [];
    for (const name of fs.readdirSync(this.root)) {
      try {
        const raw = JSON.parse(fs.readFileSync(path.join(this.root, name, 'meta.json'), 'utf8'));
        metas.push(StoredMeta.parse(raw));
      } catch {
        // Not a stream folder (or a meta torn before its first rename): ignore.
      }
    }
    return metas.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** All whole, valid segment lines; a torn or corrupt line is skipped. */
  readSegments(id: string): Segment[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file(id), 'utf8');
    } catch {
      return [];
    }
    const segments: Segment[] = [];
    const lines = text.split('\n');
    // The part after the last newline is an unfinished write: never a segment.
    lines.pop();
    for (const line of lines) {
      if (!line) continue;
      try {
        const parsed = Segment.safeParse(JSON.parse(line));
        if (parsed.success) segments.push(parsed.data);
      } catch {
        // torn or corrupt line
      }
    }
    return segments;
  }

  /** When the stream's files were last written (ms since epoch): about when a crashed server stopped it. */
  lastWriteMs(id: string): number {
    let latest = 0;
    for (const file of [this.file(id), path.join(this.dir(id), 'meta.json')]) {
      try {
        latest = Math.max(latest, fs.statSync(file).mtimeMs);
      } catch {
        // not written yet
      }
    }
    return latest || Date.now();
  }

  /** Deletes a stream's folder (DELETE ?purge=true). */
  remove(id: string): void {
    fs.rmSync(this.dir(id), { recursive: true, force: true });
  }

  private dir(id: string): string {
    return path.join(this.root, id);
  }

  private file(id: string): string {
    return path.join(this.dir(id), 'transcript.jsonl');
  }
}
