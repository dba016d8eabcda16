/**
 * GPU busy % per bench row: averages an `nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used
 * --format=csv,noheader -lms 500` log over each row's `startedAt`..`endedAt` (the JSON lines bench/batch-cost.ts
 * prints). The device machine's clock is UTC, as the bench's ISO times.
 *
 *   npx tsx bench/gpu-busy.ts --util bench/results/batch-cost-h200/gpu-util-device-kv.csv --rows bench/results/batch-cost-h200/batch-cost-webgpu-device-kv.txt
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { util: { type: 'string' }, rows: { type: 'string' } } });
if (!values.util || !values.rows) throw new Error('usage: --util NVIDIA_SMI_CSV --rows BENCH_OUTPUT');

// "2026/12/02 00:59:00.474, 17 %, 223 MiB"
const samples = readFileSync(values.util, 'utf8')
  .split('\n')
  .map((line) => line.split(',').map((f) => f.trim()))
  .filter((f) => f.length >= 3 && /^\d{4}\/\d\d\/\d\d /.test(f[0]))
  .map(([time, util, memory]) => ({ ms: Date.parse(`${time.replace(/\//g, '-').replace(' ', 'T')}Z`), util: parseFloat(util), memory }));

for (const line of readFileSync(values.rows, 'utf8').split('\n')) {
  if (!line.startsWith('{')) continue;
  const row = JSON.parse(line) as { streams: number; startedAt: string; endedAt: string };
  const from = Date.parse(row.startedAt);
  const to = Date.parse(row.endedAt);
  const inRow = samples.filter((s) => s.ms >= from && s.ms <= to);
  const mean = inRow.reduce((a, s) => a + s.util, 0) / Math.max(1, inRow.length);
  console.log(`streams ${row.streams}: ${inRow.length} samples, GPU busy mean ${mean.toFixed(1)}%, max ${Math.max(...inRow.map((s) => s.util))}%, memory at the end ${inRow.at(-1)?.memory ?? '-'}`);
}
