import { describe, expect, it } from 'vitest';
import { isSilence, outputsFromResponses, pairWindows, windowTexts, type ContentRow, type TimedText } from '../../eval/windows.js';

const out = (start: number, text: string): TimedText => ({ start, end: start + 1, text });

describe('windowTexts', () => {
  it('joins texts whose end time is in (start, end], drops silence, starts at t0', () => {
    const outputs = [out(998, 'before t0'), out(999, 'ends at t0'), out(1000, 'first'), out(1001, ' ...'), out(1009, 'boundary'), out(1010, 'second window')];
    const content: ContentRow[] = [[999, 1000, 'prefill'], [1000, 1001, 'ref one'], [1004, 1005, ' ...'], [1008, 1010, 'ref two'], [1015, 1016, 'ref three']];
    expect(windowTexts(outputs, content, { t0: 1000, windowSec: 10 })).toEqual([
      { start: 1000, end: 1010, candidate: 'first boundary', reference: 'ref one ref two' },
      { start: 1010, end: 1020, candidate: 'second window', reference: 'ref three' },
    ]);
  });

  it('defaults to 100 s windows from t0 = 0, dropping all-empty windows unless asked', () => {
    const outputs = [out(0, 'a'), out(250, 'c')];
    const content: ContentRow[] = [[10, 20, 'r']];
    expect(windowTexts(outputs, content)).toEqual([
      { start: 0, end: 100, candidate: 'a', reference: 'r' },
      { start: 200, end: 300, candidate: 'c', reference: '' },
    ]);
    expect(windowTexts(outputs, content, { keepEmpty: true }).map((w) => w.candidate)).toEqual(['a', '', 'c']);
  });

  it('orders texts by end time', () => {
    expect(windowTexts([out(5, 'later'), out(1, 'earlier')], [], { windowSec: 10 })[0].candidate).toBe('earlier later');
  });

  it('rejects a non-positive window', () => {
    expect(() => windowTexts([], [], { windowSec: 0 })).toThrow(/windowSec/);
  });
});

describe('pairWindows', () => {
  it('puts A, B and the reference on one grid', () => {
    const a = outputsFromResponses([{ start_time: 0, end_time: 1, response: 'a1' }, { start_time: 14, end_time: 15, response: 'a2' }]);
    const b = [out(3, 'b1'), out(25, ' ...')];
    expect(pairWindows(a, b, [[0, 2, 'r1']], { windowSec: 10 })).toEqual([
      { start: 0, end: 10, a: 'a1', b: 'b1', reference: 'r1' },
      { start: 10, end: 20, a: 'a2', b: '', reference: '' },
    ]);
  });

  it('knows silence', () => {
    expect(isSilence(' ...')).toBe(true);
    expect(isSilence('')).toBe(true);
    expect(isSilence('Goal...')).toBe(false);
  });
});
