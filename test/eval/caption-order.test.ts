import { describe, expect, it } from 'vitest';
import { orderFreeKey, orderStats } from '../../eval/caption-order.js';
import { HELD_OUT_RENDER, HELD_OUT_SEEDS, selectPairs, type RenderedMatch } from '../../eval/retrieval-data.js';
import { simulateTruth, type CaptionVersion } from '../../src/synth/index.js';

const S = 'Red vs Blue, Red 0-0 Blue, 12th minute of the first half';

describe('orderFreeKey', () => {
  it('version 1: the same events in another order share a key; other events, place or minute do not', () => {
    const a = `${S}: Red number 9 shoots, then corner to Red; play at the right end, Red in possession.`;
    const b = `${S}: corner to Red, then Red number 9 shoots; play at the right end, Red in possession.`;
    expect(orderFreeKey(a, 1)).toBe(orderFreeKey(b, 1));
    expect(orderFreeKey(a, 1)).not.toBe(orderFreeKey(a.replace('right end', 'left end'), 1));
    expect(orderFreeKey(a, 1)).not.toBe(orderFreeKey(a.replace('12th', '13th'), 1));
    expect(orderFreeKey(a, 1, false)).toBe(orderFreeKey(a.replace('12th', '13th'), 1, false));
  });

  it('version 2: teams on the ball and thirds as sets, events as a multiset', () => {
    const a = `${S}: Red on the ball in midfield, then play moves to the left end, then Blue on the ball, finally a throw-in to Red.`;
    const b = `${S}: Blue on the ball at the left end, then a throw-in to Red, then Red on the ball, finally play moves to midfield.`;
    const c = `${S}: Red on the ball in midfield, then play moves to the left end, then play moves back to midfield, finally Blue on the ball.`;
    expect(orderFreeKey(a, 2)).toBe(orderFreeKey(b, 2));
    expect(orderFreeKey(a, 2)).not.toBe(orderFreeKey(c, 2)); // c has no throw-in
    expect(orderFreeKey(`${S}: Red keep the ball in midfield.`, 2)).toBe(orderFreeKey(`${S}: Red on the ball in midfield, then Red back on the ball.`, 2));
    expect(() => orderFreeKey('not a caption', 2)).toThrow(/not a clip caption/);
  });

  it('orderStats counts twins and the order-blind ceiling', () => {
    const a = `${S}: Red on the ball in midfield, then Blue on the ball.`;
    const b = `${S}: Blue on the ball in midfield, then Red on the ball.`;
    const c = `${S}: Red keep the ball at the left end.`;
    expect(orderStats([a, b, c], 2)).toEqual({ pairs: 3, withTwin: 2, orderBlindCeilingR1: 66.7 });
  });
});

describe('the held-out retrieval set per caption version', () => {
  /** The protocol's pairs (first 1,000 unique captions in seed and time order) from truth alone. */
  function heldOut(version: CaptionVersion): string[] {
    const [lo, hi] = HELD_OUT_SEEDS[version];
    const matches: RenderedMatch[] = [];
    for (let seed = lo; seed <= hi; seed++) matches.push({ seed, video: `${seed}.mp4`, captions: simulateTruth(seed, 600, { captionVersion: version }).captions });
    return selectPairs(matches, HELD_OUT_RENDER, 8, 1000).map((p) => p.caption);
  }

  it('version 1 needs no order: no two pairs differ only in order, even across minutes almost none', () => {
    const captions = heldOut(1);
    expect(captions).toHaveLength(1000);
    expect(orderStats(captions, 1).withTwin).toBe(0);
    expect(orderStats(captions, 1, false).orderBlindCeilingR1).toBeGreaterThan(95);
  });

  it('version 2 fills 1,000 unique pairs within its seeds, and order decides between pairs of the same minute', () => {
    const captions = heldOut(2);
    expect(captions).toHaveLength(1000);
    expect(new Set(captions).size).toBe(1000);
    const minute = orderStats(captions, 2);
    expect(minute.withTwin).toBeGreaterThanOrEqual(50);
    expect(minute.orderBlindCeilingR1).toBeLessThan(97);
    expect(orderStats(captions, 2, false).orderBlindCeilingR1).toBeLessThan(85);
  });

  it('version 3 (no minute) fills 1,000 unique pairs within its seeds, with more than twice the order twins of version 2', () => {
    const captions = heldOut(3);
    expect(captions).toHaveLength(1000);
    expect(new Set(captions).size).toBe(1000);
    const stats = orderStats(captions, 3);
    expect(stats.withTwin).toBeGreaterThan(2 * orderStats(heldOut(2), 2).withTwin);
    expect(stats.orderBlindCeilingR1).toBeLessThan(90);
  });
});
