/**
 * LLM judge for the Inf-Streams-style pairwise comparison: for one window, a chat model sees the
 * reference transcript and two candidate commentaries labelled A and B and answers "A", "B" or "tie".
 * preference.ts asks it in both orders (AB and BA). The prompt is Sightline's own wording of the
 * protocol's pairwise A/B question (no text is copied from the Inf-Streams code).
 *
 * Transport: `POST {baseUrl}/chat/completions` on any OpenAI-compatible endpoint with body
 * `{model, temperature: 0, messages}`, the API key (when given) as `Authorization: Bearer`, global fetch.
 * The answer is `choices[0].message.content`, parsed leniently by {@link parseVerdict}; an answer that
 * cannot be read as a verdict (or a reply without content) is no vote and is reported by
 * comparePairwise, never thrown. Network failures, timeouts, non-2xx statuses and bodies that are not
 * JSON become SightlineError('provider_unavailable') naming the endpoint (never the key).
 */
import { SightlineError } from '../src/errors.js';
import {
  comparePairwise,
  type JudgeAnswer,
  type JudgeRequest,
  type PairJudge,
  type PreferenceResult,
  type Verdict,
} from './preference.js';
import type { PairWindow } from './windows.js';

export interface LlmJudgeOptions {
  /** Base URL of the OpenAI-compatible API, e.g. "http://127.0.0.1:8000/v1". */
  baseUrl: string;
  model: string;
  /** Sent as `Authorization: Bearer <apiKey>` when set. */
  apiKey?: string;
  /** Per-request timeout in milliseconds (default 120000). */
  timeoutMs?: number;
}

export const JUDGE_SYSTEM_PROMPT =
  'You are an expert judge of live sports commentary. You compare two commentaries of the same part of a ' +
  'match against a reference transcript and answer with a single verdict.';

function shown(text: string): string {
  return text.trim() === '' ? '(no commentary)' : text.trim();
}

/** The user message for one window and one order: the reference, then "Commentary A" and "Commentary B". */
export function buildJudgePrompt(req: Pick<JudgeRequest, 'reference' | 'first' | 'second' | 'window'>): string {
  return [
    `Segment of the match: ${req.window.start} s to ${req.window.end} s.`,
    '',
    'Reference transcript of the segment:',
    shown(req.reference),
    '',
    'Commentary A:',
    shown(req.first),
    '',
    'Commentary B:',
    shown(req.second),
    '',
    'Which commentary is better? Judge how accurately it reports what happens according to the reference ' +
      '(events, teams, players, score), how informative it is, and how fluent and natural it is as live ' +
      'commentary. Ignore which one is shown first. Answer with exactly one word: A, B, or tie.',
  ].join('\n');
}

/**
 * Reads a verdict from a judge's answer, leniently: case, quotes, markdown and surrounding words are
 * ignored. In order: the whole answer is "A" / "B" / "tie" / "same"; an explicit phrase ("answer: B",
 * "the winner is A", "Commentary B is better"); a tie word (tie, same, equal, draw); otherwise a single
 * distinct stand-alone capital A or B in the text. Anything else (both letters, none, empty) is null.
 */
export function parseVerdict(raw: string | undefined | null): Verdict | null {
  if (typeof raw !== 'string') return null;
  const norm = raw
    .replace(/[*_`"'“”‘’\[\]{}()<>.,:;!?#-]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const lower = norm.toLowerCase();
  if (lower === 'a' || lower === 'b') return lower === 'a' ? 'A' : 'B';
  if (/^(tie|same|equal|draw|the same|both the same)$/.test(lower)) return 'tie';
  const explicit =
    lower.match(/\b(?:answer|verdict|winner|choice|output|decision|prefer|pick|choose)\s+(?:is\s+|would be\s+)?(?:commentary\s+|candidate\s+|option\s+)?([ab])\b/) ??
    lower.match(/\b(?:commentary|candidate|option|response)\s+([ab])\s+is\s+(?:\w+\s+)?better\b/) ??
    lower.match(/^([ab])\s+is\s+(?:\w+\s+)?better\b/);
  if (explicit) return explicit[1] === 'a' ? 'A' : 'B';
  if (/\b(tie|same|equal|equally|draw)\b/.test(lower)) return 'tie';
  const letters = new Set(norm.match(/\b[AB]\b/g) ?? []);
  if (letters.size === 1) return [...letters][0] as Verdict;
  return null;
}

function oneLine(text: string, max = 200): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}...` : t;
}

function contentOf(body: unknown): string | undefined {
  const choice = (body as { choices?: { message?: { content?: unknown } }[] } | null)?.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
    return parts === '' ? undefined : parts;
  }
  return undefined;
}

/** Sends one chat completion request and returns the message content (undefined when the reply has none). */
export async function chatCompletion(options: LlmJudgeOptions, messages: { role: 'system' | 'user'; content: string }[]): Promise<string | undefined> {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify({ model: options.model, temperature: 0, messages }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const e = err as Error;
    const why = e?.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : oneLine(String((e as { cause?: Error })?.cause?.message ?? e?.message ?? err));
    throw new SightlineError('provider_unavailable', `LLM judge: cannot reach ${url}: ${why}`, { cause: err });
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) {
    throw new SightlineError('provider_unavailable', `LLM judge: ${url} answered HTTP ${res.status}${text ? `: ${oneLine(text)}` : ''}`);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SightlineError('provider_unavailable', `LLM judge: ${url} answered with a body that is not JSON: ${oneLine(text) || '(empty)'}`);
  }
  return contentOf(body);
}

/** A PairJudge backed by an OpenAI-compatible chat endpoint (temperature 0). */
export function llmJudge(options: LlmJudgeOptions): PairJudge {
  if (!options.baseUrl) throw new SightlineError('bad_input', 'LLM judge: baseUrl is required');
  if (!options.model) throw new SightlineError('bad_input', 'LLM judge: model is required');
  return {
    name: `llm:${options.model}`,
    async judge(req): Promise<JudgeAnswer> {
      const raw = await chatCompletion(options, [
        { role: 'system', content: JUDGE_SYSTEM_PROMPT },
        { role: 'user', content: buildJudgePrompt(req) },
      ]);
      return raw === undefined ? { verdict: null } : { verdict: parseVerdict(raw), raw };
    },
  };
}

/** Pairwise preference of A vs B by an LLM judge, both orders per window. */
export function llmPreference(windows: readonly PairWindow[], options: LlmJudgeOptions): Promise<PreferenceResult> {
  return comparePairwise(windows, llmJudge(options));
}
