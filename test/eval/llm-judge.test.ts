import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { SightlineError } from '../../src/errors.js';
import { buildJudgePrompt, llmJudge, llmPreference, parseVerdict } from '../../eval/llm-judge.js';
import type { PairWindow } from '../../eval/windows.js';

interface Seen {
  url: string;
  auth: string | undefined;
  body: { model: string; temperature: number; messages: { role: string; content: string }[] };
}

/** A fake OpenAI-compatible endpoint on 127.0.0.1 that answers with `reply(n)` for the n-th request. */
async function fakeEndpoint(reply: (n: number, seen: Seen) => { status?: number; body: string }): Promise<{ baseUrl: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const s: Seen = { url: `${req.method} ${req.url}`, auth: req.headers.authorization, body: JSON.parse(data) };
      seen.push(s);
      const r = reply(seen.length - 1, s);
      res.writeHead(r.status ?? 200, { 'content-type': 'application/json' });
      res.end(r.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return { baseUrl: `http://127.0.0.1:${port}/v1`, seen, server };
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

const chat = (content: string): string => JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content } }] });

const windows: PairWindow[] = [
  { start: 1000, end: 1100, a: 'Corner to Red.', b: 'Lovely weather.', reference: 'Corner to Red from the left.' },
  { start: 1100, end: 1200, a: 'Shot by Blue.', b: 'Goal for Blue!', reference: 'GOAL! Blue score.' },
  { start: 1200, end: 1300, a: 'Throw-in.', b: 'Throw-in to Red.', reference: 'Throw-in to Red.' },
];

/** The texts shown as A and B in a prompt. */
function shownAB(prompt: string): [string, string] {
  const m = prompt.match(/Commentary A:\n(.*)\n\nCommentary B:\n(.*)\n/);
  if (!m) throw new Error(`no A/B in prompt: ${prompt}`);
  return [m[1], m[2]];
}

describe('LLM judge against a local fake endpoint', () => {
  it('asks both orders with swapped A and B at temperature 0, with the key as Bearer, and counts votes', async () => {
    // Window 0: "A" then "B" -> both votes for system A. Window 1: "**B**" then "Answer: A" -> both for B.
    // Window 2: "tie" then "The answer is B." -> tie, then system A.
    const answers = ['A', 'B', '**B**', 'Answer: A', 'Tie.', 'The answer is B.'];
    const ep = await fakeEndpoint((n) => ({ body: chat(answers[n]) }));
    const r = await llmPreference(windows, { baseUrl: `${ep.baseUrl}/`, model: 'judge-model', apiKey: 'sk-test' });

    expect(ep.seen).toHaveLength(6);
    for (const s of ep.seen) {
      expect(s.url).toBe('POST /v1/chat/completions');
      expect(s.auth).toBe('Bearer sk-test');
      expect(s.body.model).toBe('judge-model');
      expect(s.body.temperature).toBe(0);
      expect(s.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    }
    windows.forEach((w, k) => {
      const ab = ep.seen[2 * k].body.messages[1].content;
      const ba = ep.seen[2 * k + 1].body.messages[1].content;
      expect(shownAB(ab)).toEqual([w.a, w.b]);
      expect(shownAB(ba)).toEqual([w.b, w.a]);
      expect(ab).toContain(w.reference);
      expect(ba).toContain(w.reference);
    });

    expect(r.judge).toBe('llm:judge-model');
    expect(r.windows.map((w) => w.votes.map((v) => v.vote))).toEqual([['A', 'A'], ['B', 'B'], ['tie', 'A']]);
    expect({ a: r.votesA, b: r.votesB, ties: r.ties, none: r.noVote }).toEqual({ a: 3, b: 2, ties: 1, none: 0 });
    expect(r.winRateA).toBeCloseTo(3 / 5, 12);
  });

  it('counts malformed answers as no vote and reports them, without throwing', async () => {
    const replies = [chat('I cannot decide between A and B.'), chat(''), JSON.stringify({ choices: [] }), chat('B')];
    const ep = await fakeEndpoint((n) => ({ body: replies[n] }));
    const r = await llmPreference(windows.slice(0, 2), { baseUrl: ep.baseUrl, model: 'm' });
    expect(ep.seen[0].auth).toBeUndefined();
    // The last answer "B" in order BA (A shown second) is a vote for system A; the other three are no votes.
    expect({ a: r.votesA, b: r.votesB, ties: r.ties, none: r.noVote }).toEqual({ a: 1, b: 0, ties: 0, none: 3 });
    expect(r.windows[1].votes[1]).toEqual({ order: 'BA', verdict: 'B', vote: 'A', raw: 'B' });
    expect(r.malformed).toEqual([
      { index: 0, start: 1000, end: 1100, order: 'AB', raw: 'I cannot decide between A and B.' },
      { index: 0, start: 1000, end: 1100, order: 'BA', raw: '' },
      { index: 1, start: 1100, end: 1200, order: 'AB' },
    ]);
    expect(r.winRateA).toBe(1);
  });

  it('turns HTTP 500 into a clear SightlineError naming the endpoint', async () => {
    const ep = await fakeEndpoint(() => ({ status: 500, body: '{"error":"model crashed"}' }));
    const judge = llmJudge({ baseUrl: ep.baseUrl, model: 'm', apiKey: 'sk-secret' });
    const req = { index: 0, window: windows[0], order: 'AB' as const, reference: 'r', first: 'x', second: 'y' };
    const err = await judge.judge(req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SightlineError);
    expect((err as SightlineError).code).toBe('provider_unavailable');
    expect((err as SightlineError).message).toContain(`${ep.baseUrl}/chat/completions answered HTTP 500`);
    expect((err as SightlineError).message).toContain('model crashed');
    expect((err as SightlineError).message).not.toContain('sk-secret');
  });

  it('turns an unreachable endpoint and a non-JSON body into SightlineErrors', async () => {
    const ep = await fakeEndpoint(() => ({ body: 'not json' }));
    const req = { index: 0, window: windows[0], order: 'AB' as const, reference: 'r', first: 'x', second: 'y' };
    await expect(llmJudge({ baseUrl: ep.baseUrl, model: 'm' }).judge(req)).rejects.toThrow(/answered with a body that is not JSON/);
    // A port on 127.0.0.1 nobody listens on: the fake server, closed.
    const closed = await fakeEndpoint(() => ({ body: chat('A') }));
    await new Promise((resolve) => closed.server.close(resolve));
    servers.splice(servers.indexOf(closed.server), 1);
    await expect(llmJudge({ baseUrl: closed.baseUrl, model: 'm' }).judge(req)).rejects.toThrow(
      new RegExp(`LLM judge: cannot reach ${closed.baseUrl.replace(/[.]/g, '\\.')}/chat/completions`),
    );
  });
});

describe('parseVerdict', () => {
  it('is lenient about case, markup and surrounding text', () => {
    for (const s of ['A', 'a', ' A\n', '**A**', '"A"', '[[A]]', 'Answer: A', 'The answer is A.', 'Commentary A is better.', 'A is clearly better than B', 'I prefer A', 'Final verdict: a']) {
      expect(parseVerdict(s), s).toBe('A');
    }
    for (const s of ['B', 'b.', 'Winner: B', 'Candidate B is better.', 'I would choose B.']) expect(parseVerdict(s), s).toBe('B');
    for (const s of ['tie', 'TIE', 'Same', 'same.', 'They are equally good.', 'A tie.', 'It is a draw']) expect(parseVerdict(s), s).toBe('tie');
  });

  it('returns null for answers it cannot read', () => {
    for (const s of ['', '   ', 'banana', 'A or B, hard to say', 'I cannot decide between A and B.']) expect(parseVerdict(s), s).toBeNull();
    expect(parseVerdict(undefined)).toBeNull();
  });

  it('builds a prompt with the reference and (no commentary) for empty texts', () => {
    const p = buildJudgePrompt({ window: windows[0], reference: 'ref', first: '', second: 'b' });
    expect(shownAB(p)).toEqual(['(no commentary)', 'b']);
    expect(p).toMatch(/exactly one word: A, B, or tie/);
  });
});
