/**
 * `sightline index <files or folders...>` and `sightline search "<text>"`: the video search index on
 * disk (LanceDB, default .sightline/search) and text queries against it. docs/search.md.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { SightlineError } from '../errors.js';
import { defaultRetrievalDir, EncoderClient } from '../model/index.js';
import { collectVideoFiles, indexVideos, type IndexEvent } from '../search/indexer.js';
import { LiveSegmentIndex } from '../search/live-index.js';
import { DEFAULT_K, parseQuery, runSearch } from '../search/query.js';
import { SearchStore } from '../search/store.js';
import { positiveInteger, positiveNumber } from './options.js';

export const DEFAULT_SEARCH_DB = '.sightline/search';

interface IndexFlags {
  db: string;
  model: string;
  variant?: string;
  clipSeconds?: number;
  json?: boolean;
}

interface SearchFlags {
  db: string;
  model: string;
  variant?: string;
  k: number;
  json?: boolean;
}

/** Progress over the bytes of the files to index (known up front, unlike durations), with ETA. */
function progressBar(files: { path: string; size: number }[]): { onEvent: (e: IndexEvent) => void; stop: () => void } {
  if (!process.stderr.isTTY || files.length === 0) return { onEvent: () => {}, stop: () => {} };
  const total = files.reduce((n, f) => n + f.size, 0) || 1;
  const sizeOf = new Map(files.map((f) => [f.path, f.size]));
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'index [{bar}] {percentage}% | {files}/{count} files | {clips} clips | ETA {eta_formatted} | {name}', etaBuffer: 50, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let doneBytes = 0;
  let doneFiles = 0;
  let clips = 0;
  bar.start(total, 0, { files: 0, count: files.length, clips: 0, name: '' });
  let stopped = false;
  const stop = (): void => {
    if (!stopped) bar.stop();
    stopped = true;
  };
  const onEvent = (e: IndexEvent): void => {
    if (e.type === 'recovered') return;
    const size = sizeOf.get(e.path) ?? 0;
    if (e.type === 'start') bar.update(doneBytes, { name: basename(e.path) });
    else if (e.type === 'clips') bar.update(doneBytes + (e.durationSec > 0 ? (size * e.doneSec) / e.durationSec : 0), { clips: clips + e.clips });
    else {
      doneBytes += size;
      doneFiles++;
      if (e.type === 'indexed') clips += e.clips;
      bar.update(doneBytes, { files: doneFiles, clips });
      if (doneFiles === files.length) stop();
    }
  };
  return { onEvent, stop };
}

async function runIndex(inputs: string[], flags: IndexFlags): Promise<void> {
  const store = await SearchStore.open(flags.db);
  const encoder = await EncoderClient.create(flags.model, { variant: flags.variant });
  const abort = new AbortController();
  const stop = (): void => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const sizes = collectVideoFiles(inputs).files.map((path) => ({ path, size: statSize(path) }));
    const bar = flags.json ? undefined : progressBar(sizes);
    let recovered = 0;
    const report = await indexVideos(inputs, {
      store,
      encoder,
      clipSeconds: flags.clipSeconds,
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === 'recovered') recovered++;
        if (flags.json) process.stdout.write(`${JSON.stringify(e)}\n`);
        else bar?.onEvent(e);
        if (!flags.json && e.type === 'failed') process.stderr.write(`\nsightline: skipped ${e.reason}\n`);
        if (!flags.json && e.type === 'recovered') process.stderr.write(`sightline: rolled back the unfinished index of ${e.path} (interrupted earlier run)\n`);
      },
    });
    // A run that changed nothing writes nothing (re-indexing is a no-op, down to the table versions).
    const changed = report.indexed.length > 0 || recovered > 0;
    bar?.stop();
    const ann = changed ? await store.maintainAnnIndex(encoder.spec.name) : (await store.hasAnnIndex(encoder.spec.name)) ? 'current' : 'none';
    if (changed) await store.compact(encoder.spec.name);
    const total = await store.countClips(encoder.spec.name);
    const summary = {
      type: 'summary',
      indexed: report.indexed.length,
      skipped: report.skipped.length,
      failed: report.failed.length,
      clipsAdded: report.indexed.reduce((n, v) => n + v.clips, 0),
      clipsTotal: total,
      videoSec: +report.videoSec.toFixed(1),
      wallSec: +report.wallSec.toFixed(1),
      annIndex: ann,
      model: encoder.spec.name,
      db: flags.db,
    };
    if (flags.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stderr.write(
        `index: ${summary.indexed} indexed (${summary.clipsAdded} clips, ${summary.videoSec} s of video in ${summary.wallSec} s), ` +
          `${summary.skipped} unchanged, ${summary.failed} failed; ${total} clips in ${flags.db} (${encoder.spec.name}${ann === 'none' ? ', exact search' : ', IVF_FLAT index'})\n`,
      );
    }
    if (abort.signal.aborted) throw new SightlineError('internal', 'interrupted; run the same command again to resume');
    if (report.failed.length > 0) process.exitCode = 1;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await encoder.close();
    store.close();
  }
}

function statSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

async function runQuery(text: string, flags: SearchFlags): Promise<void> {
  const query = parseQuery({ q: text, k: flags.k });
  const store = await SearchStore.open(flags.db);
  const encoder = await EncoderClient.create(flags.model, { variant: flags.variant });
  try {
    const found = await runSearch(store, encoder, new LiveSegmentIndex(store), query);
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(found)}\n`);
      return;
    }
    if (found.results.length === 0 && found.live.length === 0) process.stderr.write(`search: nothing indexed in ${flags.db} for ${found.model} (run sightline index first)\n`);
    // Clips and live lines together, best first (one score scale: docs/search.md).
    for (const h of found.hits) {
      const what = h.kind === 'clip' ? h.video : `stream ${h.stream}: ${h.text}`;
      const p = h.kind === 'clip' && h.probability !== undefined ? `  p=${h.probability.toFixed(3)}` : '';
      process.stdout.write(`${h.score.toFixed(3)}  ${fmt(h.start)}-${fmt(h.end)}  ${what}${p}\n`);
    }
  } finally {
    await encoder.close();
    store.close();
  }
}

/** Seconds as m:ss.s */
function fmt(sec: number): string {
  const m = Math.floor(sec / 60);
  const s = sec - m * 60;
  return `${m}:${s < 10 ? '0' : ''}${s.toFixed(1)}`;
}

export function registerIndex(program: Command): Command {
  return program
    .command('index')
    .description('index video files (and folders of them) for text search; resumes and skips what is already indexed')
    .argument('<paths...>', 'video files or folders (walked recursively for video extensions)')
    .option('--db <dir>', 'search index folder (LanceDB)', DEFAULT_SEARCH_DB)
    .option('--clip-seconds <n>', "clip length in seconds (default: the model's, 10)", positiveNumber)
    .option('--model <dir>', 'retrieval encoder folder: sightline-retrieval, or a CLIP/SigLIP ONNX export (docs/byo-models.md)', defaultRetrievalDir())
    .option('--variant <name>', 'CLIP/SigLIP folders: graph files to run (fp16, quantized, int8, uint8, q4, ...; default the plain ones)')
    .option('--json', 'one JSON line per event on stdout instead of the progress bar')
    .action((paths: string[], flags: IndexFlags) => runIndex(paths, flags));
}

export function registerSearch(program: Command): Command {
  return program
    .command('search')
    .description('find indexed clips (and live commentary segments) by a text description')
    .argument('<text>', 'what to look for')
    .option('--k <n>', 'how many results', positiveInteger, DEFAULT_K)
    .option('--db <dir>', 'search index folder (LanceDB)', DEFAULT_SEARCH_DB)
    .option('--model <dir>', 'retrieval encoder folder the index was built with', defaultRetrievalDir())
    .option('--variant <name>', 'CLIP/SigLIP folders: the graph files the index was built with (as for index)')
    .option('--json', 'print the results as one JSON object (thumbnails as data URIs)')
    .action((text: string, flags: SearchFlags) => runQuery(text, flags));
}
