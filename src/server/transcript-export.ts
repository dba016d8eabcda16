/**
 * Transcript exports. Silent seconds (text " ..." or blank) are left out of WebVTT and SRT cues
 * and kept in JSONL (which mirrors the stored lines). Gap lines are a `[no signal]` cue (the source was
 * gone) or a `[skipped]` cue (seconds skipped to stay live) in WebVTT and SRT.
 */
import type { Segment } from './transcript-store.js';
import { isSkippedGap } from '../stream/events.js';

export function isSilent(text: string): boolean {
  const t = text.trim();
  return t === '' || t === '...';
}

/** Seconds -> HH:MM:SS<sep>mmm (rounded to the millisecond). */
export function formatTimestamp(seconds: number, separator: '.' | ','): string {
  const totalMs = Math.max(0, Math.round(seconds * 1000));
  const ms = totalMs % 1000;
  const s = Math.floor(totalMs / 1000) % 60;
  const m = Math.floor(totalMs / 60_000) % 60;
  const h = Math.floor(totalMs / 3_600_000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(h)}:${pad(m)}:${pad(s)}${separator}${pad(ms, 3)}`;
}

/** One line of cue text: line breaks would end a cue early, so they become spaces. */
function cueText(text: string): string {
  return text.trim().replace(/\s*\r?\n\s*/g, ' ');
}

/** A gap's cue: why there is no commentary (the source was gone, or the seconds were skipped to stay live). */
const gapCue = (reason: string): string => (isSkippedGap(reason) ? '[skipped]' : '[no signal]');
const cueSource = (seg: Segment): string => (seg.gap !== undefined ? gapCue(seg.gap) : seg.text);

export function toWebVtt(segments: Segment[]): string {
  let out = 'WEBVTT\n';
  for (const seg of segments) {
    if (isSilent(cueSource(seg))) continue;
    const text = cueText(cueSource(seg)).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    out += `\n${formatTimestamp(seg.start, '.')} --> ${formatTimestamp(seg.end, '.')}\n${text}\n`;
  }
  return out;
}

export function toSrt(segments: Segment[]): string {
  const cues: string[] = [];
  for (const seg of segments) {
    if (isSilent(cueSource(seg))) continue;
    cues.push(`${cues.length + 1}\n${formatTimestamp(seg.start, ',')} --> ${formatTimestamp(seg.end, ',')}\n${cueText(cueSource(seg))}\n`);
  }
  return cues.join('\n');
}

export function toJsonl(segments: Segment[]): string {
  return segments.map((s) => `${JSON.stringify(s)}\n`).join('');
}
