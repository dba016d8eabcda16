/**
 * A typed array reused from call to call and grown (a quarter more than asked, so a slowly rising need does
 * not reallocate every time) when a call needs more. The engine worker's per-second buffers (pixel values,
 * a batch's packed inputs) come from these instead of fresh arrays: fresh ones leave megabytes a second of
 * variously sized garbage to the collector, and freeing it in whatever order the collector finds it
 * fragments the worker's malloc arena, which then grows for hours (bench/results/soak-quick.md).
 *
 * A view from `take` stays valid until the next `take`; the caller must be done with it by then.
 */
type Typed = Float32Array | BigInt64Array;

export class ScratchArray<T extends Typed> {
  private buf: T;
  /** Elements written by `touch` since the buffer was allocated. */
  private touched = 0;

  constructor(private readonly make: (length: number) => T) {
    this.buf = make(0);
  }

  /**
   * The first `length` elements (old contents: fill what you need). `reserve`, when the caller knows the most
   * it will ever ask for in this shape, is what a growth allocates instead (no steps on the way up).
   */
  take(length: number, reserve = 0): T {
    if (this.buf.length < length) {
      this.buf = this.make(reserve >= length ? reserve : Math.ceil(length * 1.25));
      this.touched = 0;
    }
    return this.buf.subarray(0, length) as T;
  }

  /**
   * Writes zeros over the first `length` elements (as far as the buffer goes) that no `touch` wrote yet, so their
   * pages are resident from now on. A large typed array is mapped on demand: its pages count towards RSS only when
   * first written, so a buffer used up to a varying length kept the RSS rising for as long as longer uses kept
   * coming (BatchPacker). Call it before writing the values of this call: it may zero what `take` returned.
   */
  touch(length: number): void {
    const end = Math.min(length, this.buf.length);
    if (end <= this.touched) return;
    this.buf.fill((typeof this.buf[0] === 'bigint' ? 0n : 0) as never, this.touched, end);
    this.touched = end;
  }

  /** Elements held now. */
  get capacity(): number {
    return this.buf.length;
  }
}
