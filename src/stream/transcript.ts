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
