/**
 * Ingest cost: ffmpeg CPU-seconds per stream-second when sampling an H.264 source at 2 fps to 224x224,
 * for 1080p30 and 720p30, under several decoder settings. Goal (design.md): <= 0.3 for 1080p30.
 *
 *   npx tsx bench/ingest-cost.ts [--seconds 20] [--repeats 3] [--quick]
 *
 * CPU is measured exactly: ffmpeg runs under /usr/bin/time (via $SIGHTLINE_FFMPEG pointing at a small
 * wrapper), which reports the child's user + system time including all its threads. The sources are
 * testsrc2 encoded with libx264 -preset veryfast (CABAC, B-frames: a typical broadcast-like stream),
 * cached under the OS temp dir. Every variant ingests through openSource(), exactly as the service does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1]) || 20;
const quick = args.includes('--quick');
const cacheDir = join(tmpdir(), 'sightline-bench-media');
mkdirSync(cacheDir, { recursive: true });

const realFfmpeg = execFileSync('sh', ['-c', 'command -v ffmpeg'], { encoding: 'utf8' }).trim();
if (!realFfmpeg || !existsSync('/usr/bin/time')) {
  console.error('bench needs a system ffmpeg and /usr/bin/time');
  process.exit(1);
}

// The wrapper appends "user system" seconds of every ffmpeg it runs to $BENCH_TIME_FILE.
const wrapper = join(cacheDir, 'timed-ffmpeg.sh');
writeFileSync(wrapper, `#!/bin/sh\nexec /usr/bin/time -q -f "%U %S" -a -o "\${BENCH_TIME_FILE:-/dev/null}" ${realFfmpeg} "$@"\n`);
chmodSync(wrapper, 0o755);
process.env.SIGHTLINE_FFMPEG = wrapper;
const { openSource } = await import('../src/ingest/index.js');
const { ffmpegPath } = await import('../src/ingest/ffmpeg-binary.js');
ffmpegPath(); // locate (runs `ffmpeg -version`) before any timing starts

interface BenchSource {
  label: string;
  height: 1080 | 720;
  /** Extra filter after testsrc2 and rate control: plain testsrc2 is easy to decode; noise at 8 Mb/s is not. */
  filter: string;
  rate: string[];
}

const SOURCES: BenchSource[] = [
  { label: '1080p30 testsrc2 (crf 23)', height: 1080, filter: '', rate: [] },
  { label: '1080p30 noisy 8 Mb/s', height: 1080, filter: ',noise=alls=12:allf=t', rate: ['-b:v', '8M', '-maxrate', '8M', '-bufsize', '16M'] },
  { label: '720p30 testsrc2 (crf 23)', height: 720, filter: '', rate: [] },
];

function generate(s: BenchSource): string {
  const width = (s.height * 16) / 9;
  const name = s.label.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  const path = join(cacheDir, `${name}-${seconds}s.mp4`);
  if (existsSync(path)) return path;
  process.stderr.write(`generating ${path} ...\n`);
  const partial = `${path}.partial.mp4`;
  execFileSync(realFfmpeg, [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${s.height}:rate=30:duration=${seconds}${s.filter}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '60', ...s.rate, partial,
  ]);
  renameSync(partial, path);
  return path;
}

interface Variant {
  name: string;
  options: Parameters<typeof openSource>[1];
}

const variants: Variant[] = [
  { name: 'default (1 thread, bilinear)', options: {} },
  { name: 'threads auto', options: { decoderThreads: 0 } },
  { name: 'scale fast_bilinear', options: { scaleFlags: 'fast_bilinear' } },
  { name: 'scale area', options: { scaleFlags: 'area' } },
  { name: 'flags2 +fast', options: { fastDecode: true } },
  { name: 'skip_loop_filter all', options: { inputOptions: { skip_loop_filter: 'all' } } },
  { name: '+fast + skip_loop_filter', options: { fastDecode: true, inputOptions: { skip_loop_filter: 'all' } } },
  { name: 'skip_frame noref (inexact!)', options: { inputOptions: { skip_frame: 'noref' } } },
];

interface Sample {
  cpuPerStreamSec: number;
  /** This Node process's own CPU (pipe reads, frame records, chunks) per stream-second. */
  nodeCpuPerStreamSec: number;
  frames: number;
  wallSec: number;
}

async function measure(path: string, variant: Variant): Promise<Sample> {
  const timeFile = join(cacheDir, `time-${process.pid}.txt`);
  rmSync(timeFile, { force: true });
  process.env.BENCH_TIME_FILE = timeFile;
  const started = performance.now();
  const nodeCpuBefore = process.cpuUsage();
  const frames = openSource(path, { fps: 2, width: 224, height: 224, ...variant.options });
  let count = 0;
  for await (const chunk of frames) count += chunk.frames.length;
  const wallSec = (performance.now() - started) / 1000;
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const nodeCpuPerStreamSec = (nodeCpu.user + nodeCpu.system) / 1e6 / seconds;
  // One "user system" line per ffmpeg the run started (one, for a file).
  const cpuSec = readFileSync(timeFile, 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => line.trim().split(/\s+/).map(Number))
    .reduce((a, b) => a + b, 0);
  return { cpuPerStreamSec: cpuSec / seconds, nodeCpuPerStreamSec, frames: count, wallSec };
}

console.log(`ingest cost: ${seconds} s sources, 2 fps -> 224x224, ${cpus().length} cores (${cpus()[0]?.model ?? '?'})`);
console.log(`ffmpeg ${execFileSync(realFfmpeg, ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0].split(' ')[2]}; goal <= 0.300 CPU-s per stream-second at 1080p30\n`);
const repeats = Number(args[args.indexOf('--repeats') + 1]) || 3;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
let shipped = 0;
for (const benchSource of SOURCES) {
  const path = generate(benchSource);
  const runs = quick ? variants.slice(0, 1) : variants;
  const mbps = (statSync(path).size * 8) / seconds / 1e6;
  console.log(`${benchSource.label}, ${mbps.toFixed(1)} Mb/s  (median of ${repeats}, variants interleaved)`);
  console.log('  variant                          CPU-s/stream-s   vs default   vs goal   frames   wall-s   node CPU-s/stream-s');
  // Interleave repeats so drift from other load on the machine spreads over all variants alike.
  const samples = runs.map(() => [] as Sample[]);
  for (let r = 0; r < repeats; r++) {
    for (const [i, variant] of runs.entries()) samples[i].push(await measure(path, variant));
  }
  const baseline = median(samples[0].map((x) => x.cpuPerStreamSec));
  if (benchSource.height === 1080 && !shipped) shipped = baseline;
  for (const [i, variant] of runs.entries()) {
    const cpu = median(samples[i].map((x) => x.cpuPerStreamSec));
    const wall = median(samples[i].map((x) => x.wallSec));
    const nodeCpu = median(samples[i].map((x) => x.nodeCpuPerStreamSec));
    console.log(
      `  ${variant.name.padEnd(32)} ${cpu.toFixed(3).padStart(14)} ${(cpu / baseline).toFixed(2).padStart(11)}x` +
        ` ${(cpu / 0.3).toFixed(2).padStart(8)}x ${String(samples[i][0].frames).padStart(8)} ${wall.toFixed(2).padStart(8)}` +
        ` ${nodeCpu.toFixed(3).padStart(21)}`,
    );
  }
  console.log('');
}
console.log(`shipped default at 1080p30 testsrc2: ${shipped.toFixed(3)} CPU-s per stream-second (goal 0.300): ${shipped <= 0.3 ? 'MET' : 'NOT MET'}`);
