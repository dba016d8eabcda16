/** What a session said, kept bounded: enough to refill previous text after a restart. */
export interface Segment {
  start: number;
  end: number;
  text: string;
}

export class BoundedTranscript {
  /** The first spoken segments (they refill the text sink, kept for good). */
  private readonly first: Segment[] = [];
  /** The most recent spoken segments (they refill the sliding window). */
  private readonly recent: Segment[] = [];

  constructor(
    private readonly keepFirst = 64,
    private readonly keepRecent = 256,
  ) {}

  add(segment: Segment, silent: boolean): void {
    if (silent) return;
    if (this.first.length < this.keepFirst) {
      this.first.push(segment);
      return;
    }
    this.recent.push(segment);
    if (this.recent.length > this.keepRecent) this.recent.shift();
  }

  /** Texts in stream order, oldest first; the cache trims them to text sink + window. */
  previousTexts(): string[] {
    return [...this.first, ...this.recent].map((s) => s.text);
  }

  get size(): number {
    return this.first.length + this.recent.length;
  }
}

/**
 * The previous text a stream had, rebuilt from its stored transcript (a restart): the same bounded
 * selection a running session keeps, without silent seconds (" ...") and gap lines.
 */
export function previousTextsFrom(segments: Iterable<Segment & { gap?: string }>): string[] {
  const kept = new BoundedTranscript();
  for (const s of segments) {
    const t = s.text.trim();
    kept.add(s, s.gap !== undefined || t === '' || t === '...');
  }
  return kept.previousTexts();
}
