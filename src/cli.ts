#!/usr/bin/env -S node --max-semi-space-size=2
/** `sightline` command line: each command lives in src/cli/<name>.ts and registers itself here. */
import { Command, CommanderError } from 'commander';
import { isSightlineError } from './errors.js';
import { registerDoctor } from './cli/doctor.js';
import { registerSynth } from './cli/synth.js';
import { registerIngest } from './cli/ingest.js';
import { registerServe } from './cli/serve.js';
import { registerWorker } from './cli/worker.js';
import { registerGateway } from './cli/gateway.js';
import { registerWatch } from './cli/watch.js';
import { registerEval } from './cli/eval.js';
import { registerIndex, registerSearch } from './cli/search.js';

const program = new Command()
  .name('sightline')
  .description('Real-time video commentary and video search')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)');

registerDoctor(program);
registerSynth(program);
registerIngest(program);
registerWatch(program);
registerServe(program);
registerWorker(program);
registerGateway(program);
registerEval(program);
registerIndex(program);
registerSearch(program);

/** One clear line on stderr and a non-zero exit; stack traces only with SIGHTLINE_DEBUG=1. */
function fail(err: unknown): never {
  if (err instanceof CommanderError) process.exit(err.exitCode || 2);
  const message = isSightlineError(err) || !(err instanceof Error) ? String((err as Error).message ?? err) : err.message;
  process.stderr.write(`sightline: ${message}\n`);
  if (process.env.SIGHTLINE_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  process.exit(1);
}

// `sightline ... | head` closes stdout early: that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

program.exitOverride();
program.parseAsync(process.argv).catch(fail);
