/**
 * Text queries: validation (one clear bad_input error) and the search itself over the clips of one
 * model plus the live commentary segments.
 */
import { z } from 'zod';
import { SightlineError } from '../errors.js';
import { siglipProbability, type ClipEncoder } from '../model/index.js';
import type { LiveSegmentIndex } from './live-index.js';
import type { SearchStore } from './store.js';

/** Longest accepted query, in characters (the text towers read at most 77-96 tokens anyway). */
export const MAX_QUERY_CHARS = 500;
export const DEFAULT_K = 10;
export const MAX_K = 100;

export const SearchQuery = z.object({
  q: z
    .string()
    .transform((s) => s.trim())
    .refine((s) => s.length > 0, 'query is empty')
    .refine((s) => s.length <= MAX_QUERY_CHARS, `query is longer than ${MAX_QUERY_CHARS} characters`)
    .refine((s) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s), 'query contains control characters')
    .describe(`Text describing the clip (1-${MAX_QUERY_CHARS} characters)`),
  k: z.coerce.number().int().min(1).max(MAX_K).default(DEFAULT_K).describe(`How many clips (and live segments) to return, 1-${MAX_K}`),
});
export type SearchQuery = z.output<typeof SearchQuery>;

/** One indexed clip in the results (the schema is the authority: /openapi.json is built from it). */
export const ClipResult = z.object({
  kind: z.literal('clip'),
  video: z.string().describe('Absolute path of the video file'),
  start: z.number().describe('Clip start (s)'),
  end: z.number().describe('Clip end (s)'),
  score: z.number().describe('Cosine similarity of query and clip, -1..1 (the ranking, for every model)'),
  probability: z
    .number()
    .optional()
    .describe("SigLIP models whose logit scale and bias are known: sigmoid(exp(logit_scale) * score + logit_bias), the model's own 0..1 match probability (same order as score)"),
  thumbnail: z.string().describe("JPEG of the clip's middle frame as a data: URI"),
});
export type ClipResult = z.infer<typeof ClipResult>;

/** One live commentary segment in the results. */
export const LiveResult = z.object({
  kind: z.literal('live'),
  stream: z.string().describe('Stream id'),
  text: z.string(),
  start: z.number(),
  end: z.number(),
  score: z.number().describe('BM25 normalised to 0..1: 1 = the line has every query word (rarer words weigh more); on the scale of a clip cosine'),
});
export type LiveResult = z.infer<typeof LiveResult>;

export const SearchResults = z.object({
  query: z.string(),
  model: z.string().describe('Retrieval model whose clips were searched'),
  hits: z.array(z.discriminatedUnion('kind', [ClipResult, LiveResult])).describe('The k best of clips and live segments together, by score, best first'),
  results: z.array(ClipResult).describe('Indexed clips, best first'),
  live: z.array(LiveResult).describe('Commentary segments of live and recent streams, best first'),
});
export type SearchResults = z.infer<typeof SearchResults>;

/** Parses raw input into a valid query or throws bad_input naming the field. */
export function parseQuery(raw: { q?: unknown; k?: unknown }): SearchQuery {
  const parsed = SearchQuery.safeParse({ q: raw.q, k: raw.k ?? undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join('.') || 'q';
    const what = issue.code === 'invalid_type' && field === 'q' ? 'query is missing' : issue.message;
    throw new SightlineError('bad_input', `${field}: ${what}`);
  }
  return parsed.data;
}

export async function runSearch(store: SearchStore, encoder: ClipEncoder, live: LiveSegmentIndex | undefined, query: SearchQuery): Promise<SearchResults> {
  const vector = await encoder.embedText(query.q);
  const [clips, segments] = await Promise.all([store.searchClips(encoder.spec.name, vector, query.k), live ? live.search(query.q, query.k) : Promise.resolve([])]);
  const scoring = encoder.scoring;
  const results: ClipResult[] = clips.map((c) => ({
    kind: 'clip',
    video: c.video,
    start: c.start,
    end: c.end,
    score: c.score,
    ...(scoring ? { probability: siglipProbability(c.score, scoring) } : {}),
    thumbnail: `data:image/jpeg;base64,${Buffer.from(c.thumbnail).toString('base64')}`,
  }));
  const liveResults: LiveResult[] = segments.map((s) => ({ kind: 'live', ...s }));
  return { query: query.q, model: encoder.spec.name, hits: mergeHits(results, liveResults, query.k), results, live: liveResults };
}

/**
 * The k best of both kinds by score, best first. Each list is already its kind's k best, so the merged top
 * k is exact. Scores share one scale: a clip's cosine (-1..1) and a live line's normalised BM25 (0..1);
 * on a tie a clip comes first (stable sort), then each list's own order.
 */
export function mergeHits<C extends { score: number }, L extends { score: number }>(clips: C[], live: L[], k: number): (C | L)[] {
  return [...clips, ...live].sort((a, b) => b.score - a.score).slice(0, k);
}
