/**
 * Engine worker: owns the onnxruntime sessions and the KV caches of the streams assigned to it, and
 * runs each stream-second entirely here (one message in, one out). With a batching model (format 2) every
 * stream's requests run in its own order, all streams at once, and their model calls meet in the
 * BatchScheduler; otherwise requests run one at a time in arrival order, so streams sharing a worker
 * interleave second by second. It runs as a thread or as a child process (worker-port.ts).
 */
import { isSightlineError } from '../errors.js';
import type { InferenceBackend } from './backend.js';
import { BatchScheduler, DEFAULT_BATCH_LIMITS } from './batch-scheduler.js';
import { createOnnxBackend, type OnnxBackend } from './onnx-backend.js';
import { framesToPixelValues } from './preprocess.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { ScratchArray } from './scratch.js';
import { StreamEngine } from './stream-engine.js';
import { isMemoryRequest, memoryAnswer } from './thread-memory.js';
import { TextTokenizer } from './tokenizer.js';
import { connectToParent } from './worker-port.js';

const { port, data: init } = await connectToParent<WorkerInit>();
const { config } = init.folder;
const tokenizer = new TextTokenizer(init.folder.tokenizerJson, init.folder.tokenizerConfig);
const engines = new Map<string, StreamEngine>();
/** Each stream's pixel values, reused every second (a stream runs one step at a time). */
const pixelBuffers = new Map<string, ScratchArray<Float32Array>>();
const queue: ToWorker[] = [];
let backend: InferenceBackend | undefined;
/** The model's own backend (under the batch scheduler, when batching). */
let onnx: OnnxBackend | undefined;
let draining = false;

const post = (m: FromWorker): void => port.postMessage(m);
/** Steps longer than this run in chunks (the batch scheduler's maxChunkRows, below). */
const CHUNK_ROWS = 64;
/** Rows a CPU call holds at most: two chunks (the largest call's memory is taken when streams open, below). */
const CPU_CALL_ROWS = 2 * CHUNK_ROWS;
let callRows = CPU_CALL_ROWS;

async function handle(m: ToWorker): Promise<void> {
  const engine = engines.get(m.streamId);
  switch (m.type) {
    case 'open': {
      engine?.dispose();
      const created = new StreamEngine(backend!, tokenizer, config, m.options, init.folder.ood);
      await created.restart(m.previousTexts, m.options.prompt);
      engines.set(m.streamId, created);
      await onnx?.expectStreams?.(engines.size, created.cache.stats().capacityTokens, CHUNK_ROWS, callRows);
      return post({ type: 'done', seq: m.seq });
    }
    case 'close':
      engine?.dispose();
      engines.delete(m.streamId);
      await onnx?.expectStreams?.(engines.size, 0, CHUNK_ROWS, callRows);
      pixelBuffers.delete(m.streamId);
      return post({ type: 'done', seq: m.seq });
    case 'setPrompt':
      if (!engine) throw new Error(`stream ${m.streamId} is not open on this worker`);
      await engine.setPrompt(m.prompt);
      return post({ type: 'done', seq: m.seq });
    case 'step': {
      if (!engine) throw new Error(`stream ${m.streamId} is not open on this worker`);
      const { imageWidth, imageHeight } = config.vision;
      if (m.frames > 0 && (m.width !== imageWidth || m.height !== imageHeight)) {
        throw Object.assign(new Error(`frames are ${m.width}x${m.height}, the model takes ${imageWidth}x${imageHeight}`), { code: 'bad_input' });
      }
      const buffer = pixelBuffers.get(m.streamId) ?? pixelBuffers.set(m.streamId, new ScratchArray((n) => new Float32Array(n))).get(m.streamId)!;
      const pixels = framesToPixelValues(new Uint8Array(m.rgb), m.frames, imageWidth, imageHeight, config.vision, buffer.take(m.frames * 3 * imageWidth * imageHeight));
      const result = await engine.step({ startSec: m.startSec, endSec: m.endSec, pixelValues: pixels, frames: m.frames });
      post({ type: 'result', seq: m.seq, result });
      // The next second's re-encode, if any, now: off the path from a second's end to its line.
      return engine.prepareNextSecond();
    }
  }
}

async function answer(m: ToWorker): Promise<void> {
  try {
    await handle(m);
  } catch (err) {
    // A device fault fails every stream on this worker, not just this request: the thread dies, the pool
    // rejects its in-flight work with worker_failed and the sessions reopen from their transcripts on a
    // fresh worker (a fresh device, on a GPU).
    if (isSightlineError(err) && err.code === 'device_error') {
      setImmediate(() => {
        throw err;
      });
      return;
    }
    const code = isSightlineError(err) ? err.code : ((err as { code?: string }).code ?? 'internal');
    post({ type: 'error', seq: m.seq, code, message: (err as Error).message });
  }
}

/** Each stream's requests in order, streams side by side (their calls are batched). */
const streamTails = new Map<string, Promise<void>>();
function runConcurrently(m: ToWorker): void {
  const tail = (streamTails.get(m.streamId) ?? Promise.resolve()).then(() => answer(m));
  streamTails.set(m.streamId, tail);
  void tail.then(() => {
    if (streamTails.get(m.streamId) === tail) streamTails.delete(m.streamId);
  });
}

async function drain(): Promise<void> {
  if (draining || !backend) return;
  draining = true;
  while (queue.length > 0) {
    const m = queue.shift()!;
    if (backend instanceof BatchScheduler) runConcurrently(m);
    else await answer(m);
  }
  draining = false;
}

port.on('message', (m: ToWorker) => {
  if (isMemoryRequest(m)) return port.postMessage(memoryAnswer(m));
  if (!m || !['open', 'step', 'setPrompt', 'close'].includes(m.type)) return; // unknown: ignored
  queue.push(m);
  void drain();
});

async function start(): Promise<void> {
  const b = await createOnnxBackend(init.folder, { provider: init.provider, intraOpThreads: init.intraOpThreads, kv: init.kv });
  // On the CPU a call's cost grows with its rows and packing copies each past (bench/results/batch-cost.md):
  // small batches, and long steps in chunks of 64 rows so a re-encode does not hold up the others' next
  // tokens for long. On a GPU a call costs about the same for 1 row or 500 and the thread waits for each: every
  // due step in one call (one token or a prefill alike), long steps in chunks of 64 rows to bound the padding.
  // On the CPU at most two chunks' rows a call too: sharing saves little there, and the largest call is the memory
  // the decoder takes for good (expectStreams), ~27 MB of attention scores for 4 chunks over full caches.
  const limits = {
    maxChunkRows: CHUNK_ROWS,
    ...(b.provider === 'cpu' ? { maxBatch: 8, maxRows: CPU_CALL_ROWS } : { maxBatch: DEFAULT_BATCH_LIMITS.maxBatch, groupByRows: false }),
  };
  callRows = 'maxRows' in limits ? limits.maxRows : DEFAULT_BATCH_LIMITS.maxRows;
  const batching = b.decodeBatch !== undefined && init.batching !== false;
  if (batching) await b.prepareBatches?.(limits.maxBatch);
  onnx = b;
  backend = batching ? new BatchScheduler(b, limits) : b;
  post({ type: 'ready', provider: b.provider, kv: b.kv, notice: b.notice });
  void drain();
}

start().catch((err: unknown) => {
  post({ type: 'fatal', code: isSightlineError(err) ? err.code : 'internal', message: (err as Error).message });
  setImmediate(() => process.exit(1));
});
