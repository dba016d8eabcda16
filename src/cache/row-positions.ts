/**
 * The RoPE position of every live row, on three axes (t, h, w) as Qwen2-VL's multimodal RoPE has them; a text
 * row is (p, p, p), so a model with 1D RoPE and text-only positions has row i at (i, i, i). Rows of a picture
 * share t and step through h and w, so positions are not row numbers: the store keeps them (docs/byo-models.md,
 * "The cache with Hugging Face decoders").
 */
export const AXES = 3;

export class RowPositions {
  /** Row-major [rows, 3]. */
  private readonly pos: Int32Array;
  private rows = 0;
  /** nextAfter(rows), kept so that a one-token step does not scan every row. */
  private next = 0;

  constructor(capacityTokens: number) {
    this.pos = new Int32Array(capacityTokens * AXES);
  }

  /** One past the largest position of rows [0, rows) on any axis: where a text row after them goes. */
  nextAfter(rows = this.rows): number {
    if (rows === this.rows) return this.next;
    let max = -1;
    for (let i = 0; i < rows * AXES; i++) if (this.pos[i] > max) max = this.pos[i];
    return max + 1;
  }

  /** Row `row`'s [t, h, w]. */
  at(row: number): [number, number, number] {
    return [this.pos[row * AXES], this.pos[row * AXES + 1], this.pos[row * AXES + 2]];
  }

  /** Record `tokens` new rows: `given` [tokens, 3] row-major, or text rows at nextAfter(), nextAfter()+1, ... */
  append(tokens: number, given?: Int32Array): void {
    const at = this.rows * AXES;
    if (given) {
      if (given.length !== tokens * AXES) throw new RangeError(`positions for ${tokens} rows need ${tokens * AXES} values, got ${given.length}`);
      this.pos.set(given, at);
      for (const p of given) if (p >= this.next) this.next = p + 1;
    } else {
      for (let r = 0; r < tokens; r++) this.pos.fill(this.next + r, at + r * AXES, at + (r + 1) * AXES);
      this.next += tokens;
    }
    this.rows += tokens;
  }

  /**
   * Drop rows [start, end) and close the gap: later rows move by the span's extent in positions (the largest
   * position in it + 1 minus where it starts, the largest before it + 1), on every axis. Returns that extent,
   * the angle the later keys rotate back by; for text-only rows it is end - start.
   */
  remove(start: number, end: number): number {
    const delta = this.nextAfter(end) - this.nextAfter(start);
    this.pos.copyWithin(start * AXES, end * AXES, this.rows * AXES);
    this.rows -= end - start;
    for (let i = start * AXES; i < this.rows * AXES; i++) this.pos[i] -= delta;
    this.next -= delta;
    return delta;
  }

  truncate(rows: number): void {
    this.next = this.nextAfter(rows);
    this.rows = rows;
  }
}
