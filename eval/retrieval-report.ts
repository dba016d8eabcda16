/** The `eval retrieval` report: markdown for people, JSON (+ the raw similarity matrices) for tools. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { CaptionVersion } from '../src/synth/index.js';
import type { HeldOutRender } from './retrieval-data.js';
import type { RetrievalMetrics, RetrievalSummary } from './retrieval-metrics.js';
import type { ModelResult, RetrievalEvalResult } from './retrieval-run.js';

const CAPTION_SOURCE: Record<CaptionVersion, string> = {
  1: 'src/synth/captions.ts',
  2: 'src/synth/captions-v2.ts, the clip told in order',
  3: 'src/synth/captions-v2.ts without the minute, the clip told in order',
};

export interface ReportContext {
  seeds: number[];
  render: HeldOutRender;
  /** The captions of the pairs (src/synth/types.ts). */
  captionVersion: CaptionVersion;
  /** Training-time (Python) metrics per model variant, from the training record; shown when `comparable`. */
  reference?: Map<string, RetrievalMetrics>;
  /** True when this run used the model card's protocol (same seeds, pairs and render), so numbers compare. */
  comparable: boolean;
}

const PySummary = z.object({ 'R@1': z.number(), 'R@5': z.number(), 'R@10': z.number(), MdR: z.number(), MnR: z.number() });
const PyMetrics = z.object({ textToVideo: PySummary, videoToText: PySummary });

/**
 * Metrics per variant ("prompt-switch", "mean-pooling") from train/retrieval's retrieval-report.json;
 * undefined when the file is missing or its run was evaluated on another caption version (a report from
 * before versions existed is version 1).
 */
export function readTrainingReference(path: string, captionVersion: CaptionVersion = 1): Map<string, RetrievalMetrics> | undefined {
  if (!existsSync(path)) return undefined;
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  if (trainingCaptionVersion(raw) !== captionVersion) return undefined;
  const out = new Map<string, RetrievalMetrics>();
  for (const [key, value] of Object.entries(raw)) {
    const parsed = PyMetrics.safeParse((value as { metrics?: unknown } | null)?.metrics);
    if (!parsed.success) continue;
    const conv = (s: z.infer<typeof PySummary>): RetrievalSummary => ({ r1: s['R@1'], r5: s['R@5'], r10: s['R@10'], medianRank: s.MdR, meanRank: s.MnR });
    out.set(key, { textToVideo: conv(parsed.data.textToVideo), videoToText: conv(parsed.data.videoToText) });
  }
  return out;
}

/** The caption version a training report was evaluated on: `captionVersion`, else its config's, else 1. */
function trainingCaptionVersion(raw: Record<string, unknown>): number {
  const config = raw.config as { render?: { captionVersion?: number } } | undefined;
  return Number(raw.captionVersion ?? config?.render?.captionVersion ?? 1);
}

const f1 = (x: number): string => x.toFixed(1);
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}`;
const DIRECTIONS = [
  ['textToVideo', 'text-to-video'],
  ['videoToText', 'video-to-text'],
] as const;

function label(m: ModelResult): string {
  return m.variant ? `${m.name} (${m.variant})` : m.name;
}

function seedRange(seeds: number[]): string {
  const contiguous = seeds.every((s, i) => i === 0 || s === seeds[i - 1] + 1);
  return contiguous && seeds.length > 1 ? `${seeds[0]}-${seeds.at(-1)}` : seeds.join(', ');
}

export function retrievalReport(r: RetrievalEvalResult, c: ReportContext): string {
  const n = r.pairs.length;
  const matchesRead = new Set(r.pairs.map((p) => p.seed)).size;
  const rows = r.models.flatMap((m) =>
    DIRECTIONS.map(([k, name]) => {
      const s = m.metrics[k];
      return `| ${label(m)} | ${name} | ${f1(s.r1)} | ${f1(s.r5)} | ${f1(s.r10)} | ${f1(s.medianRank)} | ${s.meanRank.toFixed(3)} |`;
    }),
  );
  const lines = [
    '# Retrieval evaluation',
    '',
    `${n} held-out caption/clip pairs: the first ${n} clips with unique captions, in seed and time order, of seeds ${seedRange(c.seeds)} ` +
      `(${matchesRead} ${matchesRead === 1 ? 'match' : 'matches'} read, ${r.clipsRendered} caption clips in them). Each match: ${c.render.seconds} s rendered by src/synth at ` +
      `${c.render.widthPx}x${c.render.heightPx}, ${c.render.fps} fps, encoded as H.264 (libx264 veryfast, yuv420p) and decoded by src/ingest ` +
      `(ffmpeg, ${c.render.fps} fps, bilinear scale to the model size); ${c.render.clipSeconds} s clips, frames at the centres of equal parts of the clip. ` +
      `Captions: version ${c.captionVersion} (${CAPTION_SOURCE[c.captionVersion]}).`,
    '',
    `MSR-VTT 1k-A protocol: the full ${n} x ${n} caption x clip cosine similarity matrix; rank of the true clip (text-to-video) or caption ` +
      `(video-to-text), 1-based, ties counted against the true item. R@k in percent, MdR median rank, MnR mean rank.`,
    '',
    '| model | direction | R@1 | R@5 | R@10 | MdR | MnR |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ];
  if (r.models.length >= 2) {
    const [a, b] = r.models;
    lines.push(
      `**${label(a)} minus ${label(b)}, R@1:** text-to-video ${signed(a.metrics.textToVideo.r1 - b.metrics.textToVideo.r1)} points, ` +
        `video-to-text ${signed(a.metrics.videoToText.r1 - b.metrics.videoToText.r1)} points.`,
      '',
    );
  }
  const withRef = c.comparable && c.reference ? r.models.filter((m) => m.variant && c.reference!.has(m.variant)) : [];
  if (withRef.length > 0) {
    lines.push(
      '## Against the training-time evaluation',
      '',
      'The model card\'s numbers (train/retrieval, Python) come from the same seeds, clips and captions, but frames rendered raw and degraded ' +
        'by JPEG (quality 30-90), a random resize filter, brightness and noise, instead of H.264 through ffmpeg. Points, here minus there:',
      '',
      '| model | direction | R@1 here | R@1 there | diff | R@5 diff | R@10 diff | MnR here | MnR there |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...withRef.flatMap((m) =>
        DIRECTIONS.map(([k, name]) => {
          const h = m.metrics[k];
          const t = c.reference!.get(m.variant!)![k];
          return `| ${label(m)} | ${name} | ${f1(h.r1)} | ${f1(t.r1)} | ${signed(h.r1 - t.r1)} | ${signed(h.r5 - t.r5)} | ${signed(h.r10 - t.r10)} | ${h.meanRank.toFixed(3)} | ${t.meanRank.toFixed(3)} |`;
        }),
      ),
      '',
      `R@1 moves by one point per 10 of ${n} queries; the run-to-run spread of training was 2.3 points (docs/retrieval-model.md).`,
      '',
    );
  } else if (!c.comparable) {
    lines.push('Not the model card\'s protocol (other seeds, pair count or render), so no comparison with its numbers.', '');
  }
  lines.push(
    `Time: ${r.seconds.total.toFixed(0)} s in all (waiting for render and decode ${r.seconds.renderAndDecode.toFixed(0)} s); embedding ` +
      r.models.map((m) => `${m.name} ${m.embedSeconds.toFixed(0)} s`).join(', ') +
      '.',
    '',
    'Files: `retrieval.json` (metrics, ranks), `pairs.jsonl` (the held-out pairs), `similarity-<model>.f32` (row-major float32 ' +
      `[${n} captions x ${n} clips]).`,
    '',
  );
  return lines.join('\n');
}

/** Writes retrieval.md, retrieval.json, pairs.jsonl and one similarity matrix per model into `dir`. */
export function writeRetrievalReport(dir: string, r: RetrievalEvalResult, c: ReportContext): string {
  mkdirSync(dir, { recursive: true });
  const report = retrievalReport(r, c);
  writeFileSync(join(dir, 'retrieval.md'), report);
  writeFileSync(join(dir, 'pairs.jsonl'), r.pairs.map((p) => JSON.stringify({ video: p.video, start: p.start, end: p.end, caption: p.caption })).join('\n') + '\n');
  for (const m of r.models) writeFileSync(join(dir, `similarity-${m.name}.f32`), new Uint8Array(m.similarity.buffer, m.similarity.byteOffset, m.similarity.byteLength));
  const json = {
    protocol: 'MSR-VTT 1k-A; 1-based ranks, ties counted against the true item',
    pairs: r.pairs.length,
    seeds: c.seeds,
    render: c.render,
    captionVersion: c.captionVersion,
    clipsRendered: r.clipsRendered,
    seconds: r.seconds,
    models: r.models.map((m) => ({
      name: m.name,
      variant: m.variant,
      dir: m.dir,
      metrics: m.metrics,
      trainingReference: c.comparable && m.variant ? c.reference?.get(m.variant) : undefined,
      embedSeconds: m.embedSeconds,
      similarityFile: `similarity-${m.name}.f32`,
      ranks: { textToVideo: Array.from(m.textToVideoRanks), videoToText: Array.from(m.videoToTextRanks) },
    })),
  };
  writeFileSync(join(dir, 'retrieval.json'), JSON.stringify(json, null, 1));
  return report;
}
