/**
 * Indexing throughput of `sightline index`, in video-seconds per wall-second, split into decode
 * (ffmpeg: H.264 decode, 0.8 fps sampling, scale to 256x144) and encode (video tower in the encoder
 * worker, 8 frames per 10 s clip), and the whole pipeline (decode, encode, thumbnails and LanceDB
 * writes overlapping), on the shipped sightline-retrieval-v1.
 *
 *   npx tsx bench/search-index.ts [--seconds 120] [--hd-seconds 60] [--decoder-threads 0] [--quick]
 *
 * Sources (cached under the OS temp dir): a synthetic match as `sightline synth` renders it (640x360,
 * 25 fps) and 1080p30 testsrc2 (libx264 veryfast, crf 23), a library-like input. CPU seconds: ffmpeg's
 * through /usr/bin/time (a wrapper set as $SIGHTLINE_FFMPEG, as bench/ingest-cost.ts does), this
 * process's (all threads, encoder worker included) from process.cpuUsage().
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const synthSeconds = opt('--seconds', quick ? 30 : 120);
const hdSeconds = opt('--hd-seconds', quick ? 20 : 60);
const decoderThreads = opt('--decoder-threads', 0);
const cacheDir = join(tmpdir(), 'sightline-bench-media');
mkdirSync(cacheDir, { recursive: true });

const realFfmpeg = execFileSync('sh', ['-c', 'command -v ffmpeg || true'], { encoding: 'utf8' }).trim();
const timeFile = join(cacheDir, `search-index-time-${process.pid}.txt`);
const cpuTimed = Boolean(realFfmpeg) && existsSync('/usr/bin/time');
if (cpuTimed) {
  const wrapper = join(cacheDir, 'timed-ffmpeg.sh');
  writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/time -q -f "%U %S" -a -o "\${BENCH_TIME_FILE:-/dev/null}" ${realFfmpeg} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.env.SIGHTLINE_FFMPEG = wrapper;
  process.env.BENCH_TIME_FILE = timeFile;
}
const { ffmpegPath } = await import('../src/ingest/ffmpeg-binary.js');
const { EncoderClient, SHIPPED_RETRIEVAL_DIR, SearchStore, indexVideos, probeVideo, readClips } = await import('../src/search/index.js');
ffmpegPath();

/** ffmpeg CPU seconds since the last call (sum over every ffmpeg run). */
function ffmpegCpu(): number {
  if (!cpuTimed || !existsSync(timeFile)) return 0;
  const total = readFileSync(timeFile, 'utf8').trim().split('\n').filter(Boolean).reduce((s, l) => s + l.split(' ').map(Number).reduce((a, b) => a + b, 0), 0);
  rmSync(timeFile);
  return total;
}

function cached(name: string, make: (out: string) => void): string {
  const path = join(cacheDir, name);
  if (!existsSync(path)) {
    const tmp = join(cacheDir, `.${process.pid}.${name}`);
    make(tmp);
    renameSync(tmp, path);
  }
  return path;
}

const sources = [
  {
    label: `synthetic match 640x360 25 fps, ${synthSeconds} s`,
    path: cached(`synth-300200-${synthSeconds}s.mp4`, (out) => execFileSync('node', ['dist/src/cli.js', 'synth', '--seed', '300200', '--seconds', String(synthSeconds), '--out', out], { stdio: 'inherit' })),
  },
  {
    label: `1080p30 testsrc2 H.264, ${hdSeconds} s`,
    path: cached(`testsrc2-1080p30-${hdSeconds}s.mp4`, (out) =>
      execFileSync(realFfmpeg || ffmpegPath(), ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${hdSeconds}`, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-f', 'mp4', out]),
    ),
  },
];

const encoder = await EncoderClient.create(SHIPPED_RETRIEVAL_DIR);
const plan = { clipSeconds: encoder.spec.clipSeconds, framesPerClip: encoder.spec.framesPerClip, width: encoder.spec.imageWidth, height: encoder.spec.imageHeight, decoderThreads };
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface Row {
  source: string;
  phase: string;
  videoSec: number;
  wallSec: number;
  ffmpegCpuSec: number;
  nodeCpuSec: number;
  note: string;
}
const rows: Row[] = [];

for (const src of sources) {
  const { durationSec } = await probeVideo(src.path);
  const videoSec = durationSec!;
  ffmpegCpu();

  // 1. Decode only.
  let t0 = performance.now();
  let c0 = cpu();
  const clips = [];
  for await (const clip of readClips(src.path, plan, durationSec)) clips.push(clip);
  rows.push({ source: src.label, phase: 'decode only', videoSec, wallSec: (performance.now() - t0) / 1000, ffmpegCpuSec: ffmpegCpu(), nodeCpuSec: cpu() - c0, note: `${clips.length} clips x ${plan.framesPerClip} frames` });

  // 2. Encode only (the same clips, batches of 4, one onnxruntime thread in the worker).
  await encoder.embedClips([clips[0]]); // warm-up
  t0 = performance.now();
  c0 = cpu();
  for (let i = 0; i < clips.length; i += 4) await encoder.embedClips(clips.slice(i, i + 4));
  const encodeWall = (performance.now() - t0) / 1000;
  rows.push({ source: src.label, phase: 'encode only', videoSec, wallSec: encodeWall, ffmpegCpuSec: 0, nodeCpuSec: cpu() - c0, note: `${((encodeWall * 1000) / clips.length).toFixed(1)} ms per clip` });

  // 3. The whole pipeline, as `sightline index` runs it (fresh database).
  const dbDir = tempDir();
  const store = await SearchStore.open(join(dbDir, 'db'));
  t0 = performance.now();
  c0 = cpu();
  const report = await indexVideos([src.path], { store, encoder, decoderThreads });
  rows.push({
    source: src.label,
    phase: 'index (pipeline)',
    videoSec,
    wallSec: (performance.now() - t0) / 1000,
    ffmpegCpuSec: ffmpegCpu(),
    nodeCpuSec: cpu() - c0,
    note: `waited on decode ${report.decodeWaitSec.toFixed(1)} s, encoder busy ${report.encodeSec.toFixed(1)} s`,
  });
  store.close();
  rmSync(dbDir, { recursive: true, force: true });
}
await encoder.close();

const f = (n: number, d = 2) => n.toFixed(d);
console.log(`\n${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ffmpeg ${cpuTimed ? realFfmpeg : ffmpegPath()}, decoder threads ${decoderThreads}\n`);
console.log('| source | phase | video s | wall s | video-s per wall-s | ffmpeg CPU s | node CPU s | note |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.source} | ${r.phase} | ${f(r.videoSec, 1)} | ${f(r.wallSec)} | ${f(r.videoSec / r.wallSec, 1)} | ${cpuTimed && r.phase !== 'encode only' ? f(r.ffmpegCpuSec) : '-'} | ${f(r.nodeCpuSec)} | ${r.note} |`);
console.log('');
for (const src of sources) {
  const [dec, enc, all] = rows.filter((r) => r.source === src.label);
  console.log(`${src.label}: pipeline ${f(all.videoSec / all.wallSec, 1)} video-s/s; decode and encode run one after the other would take ${f(dec.wallSec + enc.wallSec)} s, the pipeline ${f(all.wallSec)} s (x${f((dec.wallSec + enc.wallSec) / all.wallSec)} from overlap)`);
}
