/**
 * Engine worker: owns the onnxruntime sessions and the KV caches of the streams assigned to it, and
 * runs each stream-second entirely here (one message in, one out). Requests run one at a time in
 * arrival order, so streams sharing a worker interleave second by second.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSightlineError } from '../errors.js';
import type { InferenceBackend } from './backend.js';
import { createOnnxBackend } from './onnx-backend.js';
import { framesToPixelValues } from './preprocess.js';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.js';
import { StreamEngine } from './stream-engine.js';
import { TextTokenizer } from './tokenizer.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const { config } = init.folder;
const tokenizer = new TextTokenizer(init.folder.tokenizerJson, init.folder.tokenizerConfig);
const engines = new Map<string, StreamEngine>();
const queue: ToWorker[] = [];
let backend: InferenceBackend | undefined;
let draining = false;

const post = (m: FromWorker): void => port.postMessage(m);

async function handle(m: ToWorker): Promise<void> {
  const engine = engines.get(m.streamId);
  switch (m.type) {
    case 'open': {
      engine?.dispose();
      const created = new StreamEngine(backend!, tokenizer, config, m.options, init.folder.ood);
      await created.restart(m.previousTexts, m.options.prompt);
      engines.set(m.streamId, created);
      return post({ type: 'done', seq: m.seq });
    }
    case 'close':
      engine?.dispose();
      engines.delete(m.streamId);
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
      const pixels = framesToPixelValues(new Uint8Array(m.rgb), m.frames, imageWidth, imageHeight, config.vision);
      const result = await engine.step({ startSec: m.startSec, endSec: m.endSec, pixelValues: pixels, frames: m.frames });
      return post({ type: 'result', seq: m.seq, result });
    }
  }
}

async function drain(): Promise<void> {
  if (draining || !backend) return;
  draining = true;
  while (queue.length > 0) {
    const m = queue.shift()!;
    try {
      await handle(m);
    } catch (err) {
      const code = isSightlineError(err) ? err.code : ((err as { code?: string }).code ?? 'internal');
      post({ type: 'error', seq: m.seq, code, message: (err as Error).message });
    }
  }
  draining = false;
}

port.on('message', (m: ToWorker) => {
  if (!m || !['open', 'step', 'setPrompt', 'close'].includes(m.type)) return; // unknown: ignored
  queue.push(m);
  void drain();
});

createOnnxBackend(init.folder, { provider: init.provider, intraOpThreads: init.intraOpThreads, kv: init.kv }).then(
  (b) => {
    backend = b;
    post({ type: 'ready', provider: b.provider, kv: b.kv, notice: b.notice });
    void drain();
  },
  (err) => {
    post({ type: 'fatal', code: isSightlineError(err) ? err.code : 'internal', message: (err as Error).message });
    setImmediate(() => process.exit(1));
  },
);
