import { describe, expect, it } from 'vitest';
import { Sampler, argmax, probabilityOf } from '../../src/model/sampler.js';

const logits = () => Float32Array.from([0, 2, 1, 3, -1]);

describe('Sampler', () => {
  it('greedy picks the arg max', () => {
    expect(new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1 }).pick(logits(), [])).toBe(3);
  });

  it('repetition penalty and logit bias change the choice', () => {
    const s = new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 10, seed: 1 });
    expect(s.pick(logits(), [3])).toBe(1);
    const b = new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1, logitBias: { 4: 100 } });
    expect(b.pick(logits(), [])).toBe(4);
  });

  it('sampling is reproducible per seed and stays inside the nucleus', () => {
    const draw = (seed: number, topP: number) => {
      const s = new Sampler({ temperature: 1, topP, repetitionPenalty: 1, seed });
      return Array.from({ length: 200 }, () => s.pick(logits(), []));
    };
    expect(draw(5, 0.9)).toEqual(draw(5, 0.9));
    expect(draw(5, 0.9)).not.toEqual(draw(6, 0.9));
    // top-p 0.5: token 3 alone holds ~0.64 of the mass, so only it is ever drawn.
    expect(new Set(draw(5, 0.5))).toEqual(new Set([3]));
    expect(new Set(draw(5, 1)).size).toBeGreaterThan(2);
  });

  it('silenceThreshold decides silence on its probability, then picks the best line token', () => {
    // Silence (id 0) is the single most likely token at 0.4, but the line tokens together hold 0.6.
    const row = () => Float32Array.from([Math.log(0.4), Math.log(0.2), Math.log(0.15), Math.log(0.15), Math.log(0.1)]);
    expect(probabilityOf(row(), 0)).toBeCloseTo(0.4, 6);
    const plain = new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1 });
    expect(plain.pick(row(), [], 0)).toBe(0);
    const decided = (t: number) => new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1, silenceThreshold: t });
    expect(decided(0.5).pick(row(), [], 0)).toBe(1);
    expect(decided(0.39).pick(row(), [], 0)).toBe(0);
    // Later tokens of a line (no silenceId given) are picked as usual.
    expect(decided(0.5).pick(row(), [])).toBe(0);
    // Sampling never draws silence once speaking is decided.
    const sampled = new Sampler({ temperature: 1, topP: 1, repetitionPenalty: 1, seed: 3, silenceThreshold: 0.5 });
    expect(new Set(Array.from({ length: 100 }, () => sampled.pick(row(), [], 0))).has(0)).toBe(false);
  });

  it('endThreshold ends a line on the end token\'s own probability, else goes on with the best other token', () => {
    // End of turn (id 4) is the likeliest single token at 0.45; going on holds 0.55 between the others.
    const row = () => Float32Array.from([Math.log(0.05), Math.log(0.3), Math.log(0.15), Math.log(0.05), Math.log(0.45)]);
    const plain = new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1 });
    expect(plain.pick(row(), [], undefined, 4)).toBe(4);
    const decided = (t: number) => new Sampler({ temperature: 0, topP: 1, repetitionPenalty: 1, seed: 1, endThreshold: t });
    expect(decided(0.5).pick(row(), [], undefined, 4)).toBe(1);
    expect(decided(0.45).pick(row(), [], undefined, 4)).toBe(4);
    // A turn's first token (silenceId given, no endId) is not gated by it.
    expect(decided(0.5).pick(row(), [], 0)).toBe(4);
    // Sampling never draws the end once going on is decided.
    const sampled = new Sampler({ temperature: 1, topP: 1, repetitionPenalty: 1, seed: 3, endThreshold: 0.5 });
    expect(new Set(Array.from({ length: 100 }, () => sampled.pick(row(), [], undefined, 4))).has(4)).toBe(false);
  });

  it('argmax', () => expect(argmax(Float32Array.from([1, 5, 5, 2]))).toBe(1));
});
