import type { Command } from 'commander';
import { findBinary } from '../ingest/ffmpeg-binary.js';
import { checkModelFolder, type ModelCheck } from '../model/model-check.js';
import { providerInfo, type ProviderInfo as Backend } from '../model/providers.js';

/** `sightline doctor`: which ffmpeg/ffprobe runs, its version, and the onnxruntime execution providers. */
export async function doctorReport(): Promise<Record<string, unknown>> {
  const report: Record<string, unknown> = { node: process.version, platform: `${process.platform}-${process.arch}` };
  for (const tool of ['ffmpeg', 'ffprobe'] as const) {
    try {
      report[tool] = findBinary(tool);
    } catch (err) {
      report[tool] = { error: (err as Error).message };
    }
  }
  try {
    report.onnxruntime = { providers: await providerInfo() };
  } catch (err) {
    report.onnxruntime = { error: (err as Error).message };
  }
  return report;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('show which ffmpeg/ffprobe is used and which onnxruntime execution providers are available')
    .option('--json', 'print the report as JSON')
    .option('--model <dir>', "also check a model folder (ours or a Hugging Face ONNX export): its family, files, variants and the providers that run it")
    .action(async (opts: { json?: boolean; model?: string }) => {
      const report = await doctorReport();
      if (opts.model) report.model = await checkModelFolder(opts.model);
      // A folder that cannot run makes doctor fail (exit 1), so scripts can check a download.
      if (opts.model && (report.model as ModelCheck).problems.length > 0) process.exitCode = 1;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report)}\n`);
        return;
      }
      process.stdout.write(`node        ${report.node} (${report.platform})\n`);
      for (const tool of ['ffmpeg', 'ffprobe']) {
        const info = report[tool] as { path?: string; origin?: string; version?: string; error?: string };
        const line = info.error ? `MISSING: ${info.error}` : `${info.version}  ${info.path}  (${info.origin})`;
        process.stdout.write(`${tool.padEnd(11)} ${line}\n`);
      }
      const ort = report.onnxruntime as { providers?: Backend[]; error?: string };
      const providers = ort.error
        ? `MISSING: ${ort.error}`
        : ort.providers!.map((b) => `${b.name}${b.bundled ? '' : ' (needs host libraries)'}`).join(', ');
      process.stdout.write(`onnxruntime ${providers}\n`);
      if (report.model) printModelCheck(report.model as ModelCheck);
    });
}

function printModelCheck(m: ModelCheck): void {
  const out = (label: string, text: string) => process.stdout.write(`${label.padEnd(11)} ${text}\n`);
  out('model', `${m.dir}  family ${m.family}${m.modelType ? ` (model_type ${m.modelType})` : ''}`);
  if (m.files) {
    const byGraph = new Map<string, string[]>();
    for (const f of m.files) byGraph.set(f.graph, [...(byGraph.get(f.graph) ?? []), f.variant]);
    for (const [graph, variants] of byGraph) out('', `${graph}: ${variants.join(', ')}`);
  }
  if (m.runs) out('runs', `variant ${m.runs.variant}: ${[m.runs.vision, m.runs.embed, m.runs.decoder].filter(Boolean).join(', ')}`);
  for (const p of m.providers) out('', `${p.name}: ${p.runs ? 'runs' : `does not run (${p.error})`}`);
  for (const problem of m.problems) out('PROBLEM', problem);
}
