/**
 * The engine worker (src/model/engine.worker.ts) with a memory probe in front, for bench/engine-memory.ts
 * `--probe`: a full garbage collection runs before each `memory` request is answered (this listener is
 * registered before the engine's, so it runs first), so the figures are what the worker still references,
 * not garbage waiting for a collection. With `?snapshots=3,9` in this module's URL, the 3rd and 9th memory
 * requests also write a heap snapshot of the worker (`Heap.<date>.<pid>.<thread>.heapsnapshot` in the
 * working directory; open it in Chrome DevTools, or diff two with bench/heap-diff.ts).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { parentPort, threadId } from 'node:worker_threads';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const snapshotAt = new Set((new URL(import.meta.url).searchParams.get('snapshots') ?? '').split(',').filter(Boolean).map(Number));
let requests = 0;
parentPort!.on('message', (m: { type?: string }) => {
  if (m?.type !== 'memory') return;
  gc();
  if (snapshotAt.has(++requests)) console.error(`memory probe: worker ${threadId} wrote ${v8.writeHeapSnapshot()}`);
});

await import('../src/model/engine.worker.js');
