/**
 * Low-delay video preview: the frames of each ingest chunk, JPEG-encoded with sharp, sent as
 * binary WebSocket messages (layout in schemas.ts VIDEO_FRAME_LAYOUT) on /v1/streams/:id/video.
 *
 * Video is droppable: encoding happens only while someone watches, at most one chunk is encoded
 * at a time (a newer chunk replaces a waiting one), and a viewer whose socket holds more than
 * `maxQueueBytes` simply misses frames until it catches up. Nothing queues without bound.
 */
import sharp from 'sharp';
import type { FrameChunk } from '../stream/index.js';

/** Default bytes buffered towards one video viewer before frames are skipped for it: 512 KiB. */
export const DEFAULT_VIDEO_QUEUE_BYTES = 512 * 1024;
export const DEFAULT_JPEG_QUALITY = 70;

export interface VideoSink {
  queuedBytes(): number;
  write(data: Buffer): void;
  closeNormal(): void;
}

interface RawFrame {
  ptsSec: number;
  width: number;
  height: number;
  rgb: Buffer;
}

export class VideoHub {
  private readonly viewers = new Set<VideoSink>();
  private pending: RawFrame[] | undefined;
  private encoding = false;
  private closed = false;
  framesSent = 0;

  constructor(
    private readonly maxQueueBytes = DEFAULT_VIDEO_QUEUE_BYTES,
    private readonly jpegQuality = DEFAULT_JPEG_QUALITY,
  ) {}

  get viewerCount(): number {
    return this.viewers.size;
  }

  attach(viewer: VideoSink): void {
    if (this.closed) viewer.closeNormal();
    else this.viewers.add(viewer);
  }

  detach(viewer: VideoSink): void {
    this.viewers.delete(viewer);
  }

  /** Called for every ingest chunk; copies the frames it needs (the caller may reuse buffers). */
  onChunk(chunk: FrameChunk): void {
    if (this.viewers.size === 0 || this.closed || chunk.frames.length === 0) return;
    this.pending = chunk.frames.map((f) => ({ ptsSec: f.ptsSec, width: f.width, height: f.height, rgb: Buffer.from(f.rgb) }));
    if (!this.encoding) void this.drain();
  }

  close(): void {
    this.closed = true;
    this.pending = undefined;
    for (const v of this.viewers) v.closeNormal();
    this.viewers.clear();
  }

  private async drain(): Promise<void> {
    this.encoding = true;
    try {
      while (this.pending && !this.closed) {
        const frames = this.pending;
        this.pending = undefined;
        for (const frame of frames) {
          const jpeg = await sharp(frame.rgb, { raw: { width: frame.width, height: frame.height, channels: 3 } })
            .jpeg({ quality: this.jpegQuality })
            .toBuffer();
          this.broadcast(frame.ptsSec, jpeg);
        }
      }
    } catch {
      // A frame sharp cannot encode is skipped; the preview is best effort.
    } finally {
      this.encoding = false;
    }
  }

  private broadcast(ptsSec: number, jpeg: Buffer): void {
    const message = Buffer.allocUnsafe(16 + jpeg.length);
    message.writeDoubleLE(ptsSec, 0);
    message.writeDoubleLE(Date.now(), 8);
    jpeg.copy(message, 16);
    for (const viewer of this.viewers) {
      if (viewer.queuedBytes() + message.length > this.maxQueueBytes) continue;
      viewer.write(message);
    }
    this.framesSent++;
  }
}
