/**
 * GPU busy % per bench row: averages an `nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used
 * --format=csv,noheader -lms 500` log over each row's `startedAt`..`endedAt` (the JSON lines bench/batch-cost.ts
 * prints), or over each interval between consecutive Unix-second marks (`--marks`: a file of `date +%s` lines
 * written around each command, for benches that print no times), there only while more than 500 MiB of GPU
 * memory were in use (a model loaded). The device machine's clock is UTC, as the bench's ISO times.
 *
 *   npx tsx bench/gpu-busy.ts --util bench/results/batch-cost-h200/gpu-util-device-kv.csv --rows bench/results/batch-cost-h200/batch-cost-webgpu-device-kv.txt
 *   npx tsx bench/gpu-busy.ts --util gpu-util.csv --marks marks.txt
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { util: { type: 'string' }, rows: { type: 'string' }, marks: { type: 'string' } } });
if (!values.util || !(values.rows || values.marks)) throw new Error('usage: --util NVIDIA_SMI_CSV (--rows BENCH_OUTPUT | --marks UNIX_SECONDS_FILE)');

// "2026/12/02 00:59:00.474, 17 %, 223 MiB"
const samples = readFileSync(values.util, 'utf8')
  .split('\n')
  .map((line) => line.split(',').map((f) => f.trim()))
  .filter((f) => f.length >= 3 && /^\d{4}\/\d\d\/\d\d /.test(f[0]))
  .map(([time, util, memory]) => ({ ms: Date.parse(`${time.replace(/\//g, '-').replace(' ', 'T')}Z`), util: parseFloat(util), memory }));

const summary = (inRow: typeof samples): string => {
  const mean = inRow.reduce((a, s) => a + s.util, 0) / Math.max(1, inRow.length);
  return `${inRow.length} samples, GPU busy mean ${mean.toFixed(1)}%, max ${Math.max(...inRow.map((s) => s.util))}%, memory at the end ${inRow.at(-1)?.memory ?? '-'}`;
};

if (values.marks) {
  const marks = readFileSync(values.marks, 'utf8').split(/\s+/).filter(Boolean).map((m) => Number(m) * 1000);
  for (let i = 0; i + 1 < marks.length; i++) {
    const inside = samples.filter((s) => s.ms >= marks[i] && s.ms <= marks[i + 1] && parseFloat(s.memory) > 500);
    console.log(`interval ${i + 1} (${(marks[i + 1] - marks[i]) / 1000} s): ${summary(inside)}`);
  }
}

for (const line of values.rows ? readFileSync(values.rows, 'utf8').split('\n') : []) {
  if (!line.startsWith('{')) continue;
  const row = JSON.parse(line) as { streams: number; startedAt: string; endedAt: string };
  const from = Date.parse(row.startedAt);
  const to = Date.parse(row.endedAt);
  console.log(`streams ${row.streams}: ${summary(samples.filter((s) => s.ms >= from && s.ms <= to))}`);
}
