import type { Command } from 'commander';
import { findBinary } from '../ingest/ffmpeg-binary.js';
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
    .action(async (opts: { json?: boolean }) => {
      const report = await doctorReport();
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
    });
}
