/**
 * Parser for ffmpeg `-progress pipe:N` output: blocks of `key=value` lines, each block closed by a
 * `progress=continue` or `progress=end` line. Only the keys ingest uses are typed; the rest stay in `raw`.
 */
export interface ProgressBlock {
  /** Output frames written so far (sampled frames, after the fps filter). */
  frame: number;
  /** Output frames per wall-clock second, as ffmpeg averages it. */
  fps: number;
  /** Stream time reached, in seconds (from out_time_us; 0 when ffmpeg reports N/A). */
  outTimeSec: number;
  /** Stream seconds processed per wall-clock second (e.g. 1 for live, 250 for a fast file run). */
  speed: number;
  dropFrames: number;
  dupFrames: number;
  ended: boolean;
  raw: Record<string, string>;
}

function num(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number.parseFloat(value); // "12.3x" -> 12.3, "N/A" -> NaN
  return Number.isFinite(n) ? n : 0;
}

export function toProgressBlock(raw: Record<string, string>): ProgressBlock {
  const outTimeUs = raw.out_time_us ?? raw.out_time_ms; // out_time_ms is microseconds too (historic name)
  return {
    frame: num(raw.frame),
    fps: num(raw.fps),
    outTimeSec: Math.max(0, num(outTimeUs) / 1e6),
    speed: num(raw.speed),
    dropFrames: num(raw.drop_frames),
    dupFrames: num(raw.dup_frames),
    ended: raw.progress === 'end',
    raw,
  };
}

/** Feed it raw pipe data; it calls `onBlock` once per complete block. Holds at most one partial line. */
export class ProgressParser {
  private partialLine = '';
  private current: Record<string, string> = {};
  /** A line longer than this is garbage, not progress: drop it so the buffer stays bounded. */
  private static readonly maxLineChars = 4096;

  constructor(private readonly onBlock: (block: ProgressBlock) => void) {}

  push(data: Buffer | string): void {
    const text = this.partialLine + data.toString();
    const lines = text.split('\n');
    this.partialLine = lines.pop() ?? '';
    if (this.partialLine.length > ProgressParser.maxLineChars) this.partialLine = '';
    for (const line of lines) this.line(line.trim());
  }

  private line(line: string): void {
    const eq = line.indexOf('=');
    if (eq <= 0) return;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    this.current[key] = value;
    if (key === 'progress') {
      const block = toProgressBlock(this.current);
      this.current = {};
      this.onBlock(block);
    }
  }
}
