/**
 * Encoder worker: owns the retrieval encoder's onnxruntime sessions (session.run blocks its thread)
 * and answers one request at a time, text queries first.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isSightlineError } from '../errors.js';
import type { EncoderWorkerInit, FromEncoder, ToEncoder } from './encoder-protocol.js';
import { createEncoderRuntime, type EncoderRuntime } from './encoder.js';
import { isMemoryRequest, memoryAnswer } from './thread-memory.js';

const init = workerData as EncoderWorkerInit;
const port = parentPort!;
const texts: ToEncoder[] = [];
const clips: ToEncoder[] = [];
let runtime: EncoderRuntime | undefined;
let draining = false;

const post = (m: FromEncoder, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

async function handle(m: ToEncoder): Promise<void> {
  if (m.type === 'text') {
    const v = await runtime!.embedText(m.text);
    return post({ type: 'vectors', seq: m.seq, vectors: [v.buffer as ArrayBuffer] }, [v.buffer as ArrayBuffer]);
  }
  const out = await runtime!.embedClips(m.clips.map((c) => ({ rgb: new Uint8Array(c.rgb), frames: c.frames })));
  const buffers = out.map((v) => v.buffer as ArrayBuffer);
  post({ type: 'vectors', seq: m.seq, vectors: buffers }, buffers);
}

async function drain(): Promise<void> {
  if (draining || !runtime) return;
  draining = true;
  for (let m = texts.shift() ?? clips.shift(); m; m = texts.shift() ?? clips.shift()) {
    try {
      await handle(m);
    } catch (err) {
      const code = isSightlineError(err) ? err.code : 'internal';
      post({ type: 'error', seq: m.seq, code, message: (err as Error).message });
    }
  }
  draining = false;
}

port.on('message', (m: ToEncoder) => {
  if (isMemoryRequest(m)) return port.postMessage(memoryAnswer(m));
  if (m?.type === 'text') texts.push(m);
  else if (m?.type === 'clips') clips.push(m);
  else return; // unknown: ignored
  void drain();
});

createEncoderRuntime(init.spec, init.intraOpThreads).then(
  (r) => {
    runtime = r;
    post({ type: 'ready', embedDim: r.embedDim, ...(r.scoring ? { scoring: r.scoring } : {}) });
    void drain();
  },
  (err) => {
    post({ type: 'fatal', code: isSightlineError(err) ? err.code : 'internal', message: (err as Error).message });
    setImmediate(() => process.exit(1));
  },
);
