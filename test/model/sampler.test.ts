import { describe, expect, it } from 'vitest';
import { Sampler, argmax } from '../../src/model/sampler.js';

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

  it('argmax', () => expect(argmax(Float32Array.from([1, 5, 5, 2]))).toBe(1));
});
