import { closeSync, openSync, writeSync } from 'node:fs';
import { SightlineError } from '../errors.js';
import type { MemoryFacts } from './memory.js';
import type { TruthSinks } from './timeline.js';
import type { ClipCaption, MatchEvent, TranscriptRow } from './types.js';

/** Opens a file for writing now, so a bad path fails before any rendering starts. */
export function openForWrite(path: string, what: string): number {
  try {
    return openSync(path, 'w');
  } catch (err) {
    throw new SightlineError('bad_input', `cannot write ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

export interface TruthPaths {
  /** Transcript in the Inf-Streams layout {"video","content":[[start,end,text],...]}. */
  truthPath?: string;
  /** One JSON line per event. */
  eventsPath?: string;
  /** One JSON line per clip {"video","start","end","caption"}. */
  captionsPath?: string;
  /** One JSON line per second: what memory knows then (MemoryFacts: score, leader, tallies, shots, ...). */
  factsPath?: string;
}

/**
 * Truth written incrementally with small synchronous appends (a line a second at most): nothing is
 * held in memory, and a killed live run still leaves complete lines behind. `close()` ends the
 * transcript's JSON; call it in a finally.
 */
export class TruthFiles {
  readonly sinks: TruthSinks;
  private truthFd = -1;
  private eventsFd = -1;
  private captionsFd = -1;
  private factsFd = -1;
  private rows = 0;

  constructor(paths: TruthPaths, video: string) {
    try {
      if (paths.truthPath) this.truthFd = openForWrite(paths.truthPath, 'transcript');
      if (paths.eventsPath) this.eventsFd = openForWrite(paths.eventsPath, 'events');
      if (paths.captionsPath) this.captionsFd = openForWrite(paths.captionsPath, 'captions');
      if (paths.factsPath) this.factsFd = openForWrite(paths.factsPath, 'facts');
    } catch (err) {
      this.close();
      throw err;
    }
    if (this.truthFd >= 0) writeSync(this.truthFd, `{"video":${JSON.stringify(video)},"content":[`);
    this.sinks = {
      onEvent: this.eventsFd >= 0 ? (e: MatchEvent) => writeSync(this.eventsFd, `${JSON.stringify(e)}\n`) : undefined,
      onSecond: this.truthFd >= 0 ? (row: TranscriptRow) => this.writeRow(row) : undefined,
      onClip: this.captionsFd >= 0 ? (c: ClipCaption) => writeSync(this.captionsFd, `${JSON.stringify(c)}\n`) : undefined,
      onFacts: this.factsFd >= 0 ? (f: MemoryFacts) => writeSync(this.factsFd, `${JSON.stringify(f)}\n`) : undefined,
    };
  }

  private writeRow(row: TranscriptRow): void {
    writeSync(this.truthFd, `${this.rows === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`);
    this.rows++;
  }

  close(): void {
    if (this.truthFd >= 0) {
      writeSync(this.truthFd, '\n]}\n');
      closeSync(this.truthFd);
      this.truthFd = -1;
    }
    for (const fd of [this.eventsFd, this.captionsFd, this.factsFd]) if (fd >= 0) closeSync(fd);
    this.eventsFd = -1;
    this.captionsFd = -1;
    this.factsFd = -1;
  }
}
