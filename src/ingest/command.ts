import type { ClassifiedSource } from './source-kind.js';

/**
 * A small typed builder for ffmpeg argument lists (we spawn ffmpeg directly; no shell, no quoting).
 * Order matters to ffmpeg: global options, then per input its options followed by `-i`, then output
 * options and the output target. The builder keeps those groups apart so callers can't misplace them.
 */
export type OptionValue = string | number | boolean;

export interface InputSpec {
  url: string;
  /** Demuxer, e.g. 'v4l2' or 'mpegts' (`-f` before `-i`). */
  format?: string;
  /** Read at native frame rate (`-re`). */
  realtime?: boolean;
  options?: Record<string, OptionValue | undefined>;
}

function flatten(options: Record<string, OptionValue | undefined> | undefined): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(options ?? {})) {
    if (value === undefined || value === false) continue;
    args.push(`-${key}`);
    if (value !== true) args.push(String(value));
  }
  return args;
}

export class FfmpegCommand {
  private readonly globalArgs: string[] = [];
  private readonly inputArgs: string[] = [];
  private readonly filters: string[] = [];
  private readonly outputArgs: string[] = [];
  private target = 'pipe:1';

  global(options: Record<string, OptionValue | undefined>): this {
    this.globalArgs.push(...flatten(options));
    return this;
  }

  input(spec: InputSpec): this {
    if (spec.realtime) this.inputArgs.push('-re');
    this.inputArgs.push(...flatten(spec.options));
    if (spec.format) this.inputArgs.push('-f', spec.format);
    this.inputArgs.push('-i', spec.url);
    return this;
  }

  /** Appends one filter to the `-vf` chain (applied in call order). */
  videoFilter(filter: string): this {
    this.filters.push(filter);
    return this;
  }

  output(target: string, options: Record<string, OptionValue | undefined> = {}): this {
    this.target = target;
    this.outputArgs.push(...flatten(options));
    return this;
  }

  toArgs(): string[] {
    const vf = this.filters.length > 0 ? ['-vf', this.filters.join(',')] : [];
    return [...this.globalArgs, ...this.inputArgs, ...vf, ...this.outputArgs, this.target];
  }
}

/** Filters, named by what they do to the picture. */
export const filters = {
  /** Constant-rate sampling: one output frame per 1/fps seconds of stream time (dups/drops inside ffmpeg). */
  fps: (fps: number) => `fps=${fps}`,
  /** Scale so the picture covers width x height, keeping aspect ratio (then crop the overflow). */
  scaleCover: (width: number, height: number, flags: string) =>
    `scale=${width}:${height}:force_original_aspect_ratio=increase:flags=${flags}`,
  centreCrop: (width: number, height: number) => `crop=${width}:${height}`,
  /** Resize to exactly width x height, aspect ratio not kept. */
  scaleExact: (width: number, height: number, flags: string) => `scale=${width}:${height}:flags=${flags}`,
  squarePixels: () => 'setsar=1',
};

export interface IngestCommandOptions {
  fps: number;
  width: number;
  height: number;
  /** 'cover': scale to cover + centre-crop (default); 'stretch': scale to exactly width x height. */
  fit?: 'cover' | 'stretch';
  /** Files, and live HLS playlists: pace reading to real time with -re. */
  realtime: boolean;
  /** ffmpeg I/O timeout for network sources, in milliseconds. */
  ioTimeoutMs: number;
  rtspTransport: 'tcp' | 'udp';
  /** Stop after this many sampled frames (`-frames:v`), for files with a `seconds` limit. */
  maxFrames?: number;
  /** Decoder threads (`-threads` on the input); 0 lets ffmpeg choose. */
  decoderThreads: number;
  /** swscale algorithm for the downscale. */
  scaleFlags: string;
  /** Trade decoder exactness for speed (`-flags2 +fast`). */
  fastDecode: boolean;
  /** Extra input options (advanced tuning); they override the decoder defaults above, not the timeouts. */
  inputOptions?: Record<string, string | number>;
  /** See ffmpeg-capabilities.ts (default 'timeout', ffmpeg >= 5). */
  rtspTimeoutOption?: 'timeout' | 'stimeout';
  /** Where ffmpeg writes -progress blocks (a file descriptor of the child). */
  progressFd: number;
}

/** Input options that differ by source kind: timeouts, transport, demuxer. */
function inputFor(source: ClassifiedSource, o: IngestCommandOptions): InputSpec {
  const timeoutUs = Math.round(o.ioTimeoutMs * 1000);
  const decode = { threads: o.decoderThreads, flags2: o.fastDecode ? '+fast' : undefined, ...o.inputOptions };
  // Live streams: probe 1 s instead of ffmpeg's 5 s, so the first frames are not seconds behind the edge.
  const liveProbe = source.live ? { analyzeduration: 1_000_000, probesize: 1_000_000 } : {};
  switch (source.kind) {
    case 'file':
      return { url: source.input, realtime: o.realtime, options: decode };
    case 'stdin':
      return { url: 'pipe:0', realtime: o.realtime, options: decode };
    case 'v4l2':
      return { url: source.input, format: 'v4l2', options: { ...decode, ...liveProbe } };
    case 'rtsp':
      // Socket I/O timeout (named per ffmpeg version); TCP interleaving avoids UDP loss and NAT trouble.
      return {
        url: source.input,
        options: { ...decode, ...liveProbe, rtsp_transport: o.rtspTransport, [o.rtspTimeoutOption ?? 'timeout']: timeoutUs },
      };
    case 'udp':
    case 'rtp':
      // udp's -timeout raises an error when no packet arrives; keep going if the receive buffer overruns.
      return { url: source.input, options: { ...decode, ...liveProbe, timeout: timeoutUs, overrun_nonfatal: 1 } };
    case 'srt':
      return { url: source.input, options: { ...decode, ...liveProbe, timeout: timeoutUs } };
    case 'hls':
      // A live playlist is paced (realtime) and starts at its newest segment: see hls-playlist.ts.
      return { url: source.input, realtime: o.realtime, options: { ...decode, rw_timeout: timeoutUs } };
    default:
      // rtmp, http, tcp: the generic AVIO read/write timeout (rtmp's own -timeout means "listen").
      return { url: source.input, options: { ...decode, ...liveProbe, rw_timeout: timeoutUs } };
  }
}

/** The full ffmpeg argument list for one ingest run: decode, sample, cover-scale, centre-crop (or stretch), raw RGB24. */
export function buildIngestArgs(source: ClassifiedSource, o: IngestCommandOptions): string[] {
  const fit = o.fit === 'stretch' ? [filters.scaleExact(o.width, o.height, o.scaleFlags)] : [filters.scaleCover(o.width, o.height, o.scaleFlags), filters.centreCrop(o.width, o.height)];
  const cmd = new FfmpegCommand()
    .global({
      hide_banner: true,
      nostdin: source.kind !== 'stdin',
      nostats: true,
      loglevel: 'info', // info: the input stream line (its frame rate feeds inputFps) and decode errors
      progress: `pipe:${o.progressFd}`, // a block every 0.5 s (ffmpeg's default -stats_period; 4.1 lacks the option)
    })
    .input(inputFor(source, o))
    .videoFilter(filters.fps(o.fps));
  for (const f of fit) cmd.videoFilter(f);
  return cmd
    .videoFilter(filters.squarePixels())
    .output('pipe:1', {
      map: '0:v:0',
      an: true,
      sn: true,
      dn: true,
      'frames:v': o.maxFrames,
      pix_fmt: 'rgb24',
      f: 'rawvideo',
    })
    .toArgs();
}
