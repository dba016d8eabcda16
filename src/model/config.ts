import { z } from 'zod';

/** config.json of a model folder (docs/model-format.md). The schema is the authority on field names. */
const positiveInt = z.number().int().positive();

export const ModelConfigSchema = z.object({
  format: z.literal('sightline-streaming-vlm'),
  formatVersion: z.union([z.literal(1), z.literal(2)]),
  name: z.string().min(1),
  decoder: z
    .object({
      hiddenSize: positiveInt,
      numLayers: positiveInt,
      numHeads: positiveInt,
      numKvHeads: positiveInt,
      headDim: positiveInt,
      intermediateSize: positiveInt,
      vocabSize: positiveInt,
      rmsNormEps: z.number().positive(),
      maxPositions: positiveInt,
    })
    .refine((d) => d.numHeads % d.numKvHeads === 0, 'numHeads must be a multiple of numKvHeads'),
  rope: z.object({
    theta: z.number().positive(),
    headDim: positiveInt.refine((n) => n % 2 === 0, 'rope.headDim must be even'),
    style: z.literal('half'),
    angleDtype: z.enum(['float64', 'float32']).default('float64'),
    keysCachedAfterRope: z.literal(true),
  }),
  kv: z.object({ layout: z.literal('seq-major'), dtype: z.literal('float32') }),
  embeddings: z.object({ file: z.string().min(1), dtype: z.literal('float32') }),
  vision: z.object({
    imageWidth: positiveInt,
    imageHeight: positiveInt,
    framesPerSecond: z.number().positive(),
    tokensPerFrame: positiveInt,
    mean: z.array(z.number()).length(3),
    std: z.array(z.number().positive()).length(3),
  }),
  chat: z.object({
    system: z.string().includes('{prompt}'),
    defaultPrompt: z.string(),
    roundHeader: z.string().includes('{start}').includes('{end}'),
    assistant: z.string(),
    /** The model's word for "nothing to say" (" ..." for ours); empty: a silent second is an empty answer. */
    silence: z.string(),
    endOfTurn: z.string().min(1),
  }),
  generation: z
    .object({
      maxTokensPerSecond: positiveInt.default(20),
      temperature: z.number().nonnegative().default(0.9),
      topP: z.number().gt(0).lte(1).default(0.9),
      repetitionPenalty: z.number().positive().default(1.05),
      /**
       * Opt-in speak/silence decision on probability mass: a second is silent only when the silence token
       * has at least this probability, otherwise the best line is spoken. Lower values trade precision
       * for recall (measured in docs/commentator-model.md). Absent: the first token is picked like any other.
       */
      silenceThreshold: z.number().gt(0).lte(1).optional(),
      /**
       * Opt-in end-of-line decision on probability mass: a started line ends only when the end-of-turn
       * token has at least this probability, otherwise it goes on with the likeliest other token (greedy
       * argmax ends "It's in!" when the end holds 0.48 and the ways to go on 0.52 between them).
       * maxTokensPerSecond still caps the line. Absent: the end of turn is picked like any other token.
       */
      endThreshold: z.number().gt(0).lte(1).optional(),
      /** Silence without asking the model: seconds after a spoken line during which it is not asked (docs/byo-models.md). */
      minIntervalSec: z.number().nonnegative().optional(),
      /**
       * Silence without asking the model: a second whose mean visual token is closer than this cosine distance
       * to the last spoken second's is not asked. Absent or 0: every second is asked.
       */
      minVisualChange: z.number().min(0).max(2).optional(),
    })
    .default({ maxTokensPerSecond: 20, temperature: 0.9, topP: 0.9, repetitionPenalty: 1.05 }),
  runtime: z.object({ executionProvider: z.string().default('cpu') }).default({ executionProvider: 'cpu' }),
});

export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** One line per problem: "decoder.numKvHeads: expected number". */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Format a stream time for the round header: integers as integers, else one decimal. */
export function formatSeconds(sec: number): string {
  return Number.isInteger(sec) ? String(sec) : sec.toFixed(1);
}
