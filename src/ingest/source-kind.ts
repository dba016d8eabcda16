import { SightlineError } from '../errors.js';

/**
 * What kind of source a string names, decided from its shape alone (no I/O):
 *   "-"                     stdin
 *   /dev/videoN, v4l2:PATH  webcam (ffmpeg -f v4l2)
 *   file:PATH, plain path   local file
 *   rtsp(s)://              RTSP camera / server
 *   rtmp(s|t|ts|e)://       RTMP
 *   http(s)://*.m3u8        HLS;  other http(s):// progressive download
 *   srt://, udp://, rtp://, tcp://   MPEG-TS style network streams
 * Any other `scheme://` is rejected with `source_unknown_protocol` before ffmpeg runs.
 */
export type SourceKind = 'file' | 'stdin' | 'v4l2' | 'rtsp' | 'rtmp' | 'hls' | 'http' | 'srt' | 'udp' | 'rtp' | 'tcp';

export interface ClassifiedSource {
  kind: SourceKind;
  /** What ffmpeg gets after -i. */
  input: string;
  /**
   * Live sources have no natural end: any exit or stall is a drop to reconnect from. Files, stdin, plain
   * HTTP downloads and HLS end cleanly when ffmpeg exits 0 (a live HLS playlist keeps ffmpeg running).
   */
  live: boolean;
  /** Reached over the network: gets ffmpeg I/O timeouts and, by default, reconnects. */
  network: boolean;
}

const SCHEME_KIND: Record<string, SourceKind> = {
  rtsp: 'rtsp',
  rtsps: 'rtsp',
  rtmp: 'rtmp',
  rtmps: 'rtmp',
  rtmpt: 'rtmp',
  rtmpts: 'rtmp',
  rtmpe: 'rtmp',
  http: 'http',
  https: 'http',
  srt: 'srt',
  udp: 'udp',
  rtp: 'rtp',
  tcp: 'tcp',
};

const LIVE_KINDS = new Set<SourceKind>(['rtsp', 'rtmp', 'srt', 'udp', 'rtp', 'tcp', 'v4l2']);

function make(kind: SourceKind, input: string): ClassifiedSource {
  const network = !['file', 'stdin', 'v4l2'].includes(kind);
  return { kind, input, live: LIVE_KINDS.has(kind), network };
}

export function classifySource(source: string): ClassifiedSource {
  const trimmed = source.trim();
  if (trimmed === '') throw new SightlineError('bad_input', 'source: empty source string');
  if (trimmed === '-' || trimmed === 'pipe:0' || trimmed === 'pipe:') return make('stdin', 'pipe:0');
  if (/^\/dev\/video\d+$/.test(trimmed)) return make('v4l2', trimmed);
  if (trimmed.startsWith('v4l2:')) return make('v4l2', trimmed.slice('v4l2:'.length));
  if (trimmed.startsWith('file://')) return make('file', decodeURIComponent(trimmed.slice('file://'.length)));
  if (trimmed.startsWith('file:')) return make('file', trimmed.slice('file:'.length));
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(trimmed)?.[1]?.toLowerCase();
  if (scheme === undefined) return make('file', trimmed);
  const kind = SCHEME_KIND[scheme];
  if (!kind) {
    throw new SightlineError('source_unknown_protocol', `${source}: unknown protocol "${scheme}"`);
  }
  if (kind === 'http' && /\.m3u8?(\?|#|$)/i.test(new URL(trimmed).pathname + new URL(trimmed).search)) {
    return make('hls', trimmed);
  }
  return make(kind, trimmed);
}
