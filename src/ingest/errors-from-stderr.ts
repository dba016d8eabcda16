import { SightlineError, type ErrorCode } from '../errors.js';
import type { RunOutcome } from './ffmpeg-run.js';
import type { ClassifiedSource } from './source-kind.js';

/**
 * Reads ffmpeg's stderr as it streams: keeps a bounded tail of lines for error messages, counts corrupt
 * input frames (skipped mid-file, reported as drops) and picks up the input's nominal frame rate.
 */
export class StderrLog {
  /** Last lines kept for classifying a failure; bounded so a chatty ffmpeg can't grow memory. */
  static readonly maxLines = 40;
  private static readonly maxLineChars = 1000;
  private readonly lines: string[] = [];
  private partialLine = '';
  /** Input frames ffmpeg reported as corrupt or undecodable. */
  corruptFrames = 0;
  /** Nominal frame rate of the input video stream ("30 fps" in the stream line), 0 if unknown. */
  inputFrameRate = 0;
  /** ffmpeg printed its "Input #0" header: the source was opened and probed. */
  sawInputHeader = false;
  private inInputSection = false;

  /** `onCorruptFrame` hears each corrupt input frame as ffmpeg reports it. */
  constructor(private readonly onCorruptFrame: () => void = () => {}) {}

  push(data: Buffer | string): void {
    const parts = (this.partialLine + data.toString()).split(/\r?\n|\r/);
    this.partialLine = (parts.pop() ?? '').slice(0, StderrLog.maxLineChars);
    for (const line of parts) this.line(line.slice(0, StderrLog.maxLineChars));
  }

  private line(line: string): void {
    if (line.trim() === '') return;
    if (/^Input #\d+/.test(line)) {
      this.sawInputHeader = true;
      this.inInputSection = true;
    } else if (/^(Output #|Stream mapping)/.test(line)) {
      this.inInputSection = false;
    }
    if (this.inInputSection && this.inputFrameRate === 0) {
      const rate = /Stream #\d+:\d+.*: Video: .*?([\d.]+) (?:fps|tbr)/.exec(line);
      if (rate) this.inputFrameRate = Number.parseFloat(rate[1]);
    }
    // One line per damaged input frame, in ffmpeg 4 and 5 alike: the decoder concealing a frame's errors,
    // or ffmpeg.c losing a packet it could not decode. ("corrupt decoded frame" is 5.x only: not counted.)
    if (/concealing \d+ .*errors in \w+ frame|Error while decoding stream/i.test(line)) {
      this.corruptFrames++;
      this.onCorruptFrame();
    }
    if (/^\s/.test(line)) return; // indented metadata lines carry no errors
    this.lines.push(line);
    if (this.lines.length > StderrLog.maxLines) this.lines.shift();
  }

  tail(): string[] {
    return this.partialLine ? [...this.lines, this.partialLine] : [...this.lines];
  }
}

export interface FailureContext {
  source: string;
  classified: ClassifiedSource;
  /** How long the failed run lasted, to tell a timeout from an instant refusal. */
  elapsedMs: number;
  ioTimeoutMs: number;
}

interface Rule {
  code: ErrorCode;
  pattern: RegExp;
  cause: string;
  /** Append the matching ffmpeg line to the message (off where the cause says it all). */
  showLine?: boolean;
}

/** Ordered: the first rule that matches any line of the tail wins; specific causes come first. */
const RULES: Rule[] = [
  { code: 'source_not_found', pattern: /No such file or directory|does not exist/i, cause: 'file not found' },
  { code: 'source_not_found', pattern: /Server returned 404/i, cause: 'not found' },
  { code: 'source_unknown_protocol', pattern: /Protocol not found|Unknown protocol/i, cause: 'unknown protocol' },
  { code: 'source_no_video_stream', pattern: /matches no streams|does not contain any stream|no video stream/i, cause: 'no video stream' },
  // Not a bare "timeout": ffmpeg echoes URLs like "tcp://host:9?timeout=0" in refusals.
  { code: 'source_timeout', pattern: /timed out|Timeout was reached/i, cause: 'connection timed out' },
  {
    code: 'source_unreachable',
    pattern: /Connection refused|No route to host|Network is unreachable|Failed to resolve|Name or service not known|Connection to \S+ failed|Cannot open connection|Server returned [45]\d\d|Connection reset/i,
    cause: 'host unreachable',
  },
  { code: 'source_not_found', pattern: /Permission denied/i, cause: 'permission denied' },
  // A recognised container whose structure is broken is corrupt; a file no demuxer recognises is not a video.
  { code: 'source_not_video', pattern: /detected only with low score/i, cause: 'not a video (invalid data)', showLine: false },
  { code: 'source_corrupt', pattern: /moov atom not found|error reading header|Truncating packet|invalid NAL|corrupt/i, cause: 'corrupt data' },
  { code: 'source_not_video', pattern: /Invalid data found when processing input/i, cause: 'not a video (invalid data)', showLine: false },
];

/** The ffmpeg line that best explains the failure, shortened to its message (no "[demuxer @ 0x..]"). */
function explainingLine(tail: string[], rule: Rule | undefined): string | undefined {
  const line = rule ? tail.find((l) => rule.pattern.test(l)) : tail.at(-1);
  return line?.replace(/^\[[^\]]*\]\s*/, '').trim();
}

/** One SightlineError naming the source and the cause, from the ffmpeg stderr tail of a failed run. */
export function errorFromStderr(tail: string[], ctx: FailureContext): SightlineError {
  const { source, classified } = ctx;
  const rule = RULES.find((r) => tail.some((l) => r.pattern.test(l)));
  // Network reads that end in a generic error after the full I/O timeout were silent peers: a timeout.
  const waitedFullTimeout = ctx.elapsedMs >= ctx.ioTimeoutMs * 0.9;
  const generic = !rule || rule.code === 'source_not_video';
  if (classified.network && generic && waitedFullTimeout && /Input\/output error|Invalid data/i.test(tail.join('\n'))) {
    return new SightlineError('source_timeout', `${source}: timed out (no answer within ${(ctx.ioTimeoutMs / 1000).toFixed(1)} s)`);
  }
  const detail = rule?.showLine === false ? undefined : explainingLine(tail, rule);
  const code: ErrorCode = rule?.code ?? 'source_failed';
  const cause = rule?.cause ?? 'ffmpeg failed';
  // The ffmpeg line usually starts with the source itself ("x.mp4: No such file"); don't repeat it.
  const shown = detail?.startsWith(`${classified.input}: `) ? detail.slice(classified.input.length + 2) : detail;
  const message = shown && shown.toLowerCase() !== cause ? `${source}: ${cause} (${shown})` : `${source}: ${cause}`;
  return new SightlineError(code, message);
}

export interface RunContext {
  source: string;
  classified: ClassifiedSource;
  ioTimeoutMs: number;
  stallTimeoutMs: number;
  firstFrameTimeoutMs: number;
  /** Frames were delivered at some point (by this run or an earlier one). */
  everLive: boolean;
}

/** Why an ffmpeg run ended without a clean end of stream, as one SightlineError. */
export function errorForRun(outcome: RunOutcome, ctx: RunContext): SightlineError {
  const { source } = ctx;
  if (outcome.stalled) {
    // Our watchdog: a live source that went quiet, or one that never sent a picture in time.
    const what = outcome.framesRead > 0 ? 'stalled' : 'no video';
    const limitMs = outcome.framesRead > 0 ? ctx.stallTimeoutMs : ctx.firstFrameTimeoutMs;
    return new SightlineError('source_timeout', `${source}: timed out (${what} for ${(limitMs / 1000).toFixed(1)} s)`);
  }
  if (outcome.exit.code === 0 && !ctx.everLive) {
    // ffmpeg opened it and found nothing to decode, e.g. a text file its "tty" demuxer took for ANSI art.
    return new SightlineError('source_not_video', `${source}: not a video (no frames could be decoded)`);
  }
  if (outcome.exit.code === 0) return new SightlineError('source_failed', `${source}: stream ended`);
  return errorFromStderr(outcome.log.tail(), { ...ctx, elapsedMs: outcome.elapsedMs });
}
