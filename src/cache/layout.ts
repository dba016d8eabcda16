/**
 * Token bookkeeping of one stream's context, row-for-row with its KvStore (see index.ts diagram).
 * Plain data: the ids of every kept text token and the shape of every kept round.
 */

/** One second of stream time as it sits in the context. */
export interface RoundRecord {
  startSec: number;
  endSec: number;
  /** `Time=a-b s` header tokens. */
  headerIds: number[];
  /** Number of visual token rows (frames x tokensPerFrame). */
  visualTokens: number;
  /** Visual embeddings [visualTokens, hiddenSize]; kept only by policies that re-encode (recompute). */
  visualEmbeds?: Float32Array;
  /** Assistant tag tokens, between the visual tokens and the commentary. */
  assistantIds: number[];
  /** Generated commentary tokens followed by the end-of-turn token. */
  commentaryIds: number[];
  /** Silent second (" ..." or empty): its commentary is not moved into previous text. */
  silent: boolean;
}

export function roundTokens(r: RoundRecord): number {
  return r.headerIds.length + r.visualTokens + r.assistantIds.length + r.commentaryIds.length;
}

/** Rows of a round that precede its commentary (dropped when the commentary moves to previous text). */
export function roundPrefixTokens(r: RoundRecord): number {
  return r.headerIds.length + r.visualTokens + r.assistantIds.length;
}

export class ContextLayout {
  systemIds: number[] = [];
  /** Previous text: the first `textSinkTokens` kept for good ... */
  textSinkIds: number[] = [];
  /** ... then a sliding window of the most recent `textWindowTokens`. */
  textWindowIds: number[] = [];
  rounds: RoundRecord[] = [];

  get previousTextTokens(): number {
    return this.textSinkIds.length + this.textWindowIds.length;
  }

  /** Row where the first kept round starts. */
  get roundsStart(): number {
    return this.systemIds.length + this.previousTextTokens;
  }

  get totalTokens(): number {
    let n = this.roundsStart;
    for (const r of this.rounds) n += roundTokens(r);
    return n;
  }

  /** All kept text ids in context order with visual rows as -1: what a fresh recompute would encode. */
  tokenIds(): number[] {
    const ids = [...this.systemIds, ...this.textSinkIds, ...this.textWindowIds];
    for (const r of this.rounds) {
      ids.push(...r.headerIds);
      for (let i = 0; i < r.visualTokens; i++) ids.push(-1);
      ids.push(...r.assistantIds, ...r.commentaryIds);
    }
    return ids;
  }
}
