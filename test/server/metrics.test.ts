/**
 * /metrics as Prometheus reads it: what `promtool check metrics` enforces about types and names. Counters end
 * in `_total`; gauges and untyped samples never do (prom-client's default `*_active_handles_total` and kin
 * were gauges under counter names).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postJson, startServer } from './helpers.js';

/** One family per `# TYPE` line, and the metric name of every sample line (before labels and value). */
function parseExposition(text: string): { types: Map<string, string>; samples: string[] } {
  const types = new Map<string, string>();
  const samples: string[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1], type[2]);
    else if (line && !line.startsWith('#')) samples.push(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
  }
  return { types, samples };
}

/** The family a sample belongs to: itself, or a histogram/summary whose _bucket/_sum/_count it is. */
function familyOf(sample: string, types: Map<string, string>): string | undefined {
  if (types.has(sample)) return sample;
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  return ['histogram', 'summary'].includes(types.get(base) ?? '') ? base : undefined;
}

describe('GET /metrics', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  let exposition: ReturnType<typeof parseExposition>;
  beforeAll(async () => {
    server = await startServer();
    await postJson(server.url, '/v1/streams', { source: 'match.mp4' });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    exposition = parseExposition(await res.text());
  });
  afterAll(() => server?.close());

  it('names every counter *_total and no gauge or untyped metric so', () => {
    const { types, samples } = exposition;
    expect(types.size).toBeGreaterThan(10);
    const wrong = [...types].filter(([name, type]) => (type === 'counter') !== name.endsWith('_total')).map(([name, type]) => `${name} (${type})`);
    expect(wrong).toEqual([]);
    // Samples outside any declared family are untyped: none may take a counter's name either.
    const untyped = samples.filter((s) => familyOf(s, types) === undefined);
    expect(untyped.filter((s) => s.endsWith('_total'))).toEqual([]);
    // Both sides are exercised: our counters and prom-client's defaults, prefixed.
    expect(types.get('sightline_http_requests_total')).toBe('counter');
    expect(types.get('sightline_process_process_cpu_seconds_total')).toBe('counter');
    expect(types.get('sightline_streams')).toBe('gauge');
  });

  it("shows each thread's own memory by kind (the main thread's at least)", () => {
    expect(exposition.types.get('sightline_thread_memory_bytes')).toBe('gauge');
    expect(exposition.samples.filter((s) => s === 'sightline_thread_memory_bytes').length).toBeGreaterThanOrEqual(4);
  });

  it('keeps active handles as a gauge by type (their sum is the old *_total)', () => {
    expect(exposition.types.get('sightline_process_nodejs_active_handles')).toBe('gauge');
    expect(exposition.types.has('sightline_process_nodejs_active_handles_total')).toBe(false);
  });
});
