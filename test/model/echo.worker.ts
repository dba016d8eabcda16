/** Fixture worker for worker-channel.test.ts: answers `echo` and `memory`, fails `fail`, throws on `crash`, or refuses to start. */
import { parentPort, workerData } from 'node:worker_threads';
import { isMemoryRequest, memoryAnswer } from '../../src/model/thread-memory.js';

const port = parentPort!;
if ((workerData as { fatal?: boolean }).fatal) {
  port.postMessage({ type: 'fatal', code: 'model_invalid', message: 'fixture refuses to start' });
  setImmediate(() => process.exit(1));
} else {
  port.on('message', (m: { type: string; seq: number; value?: number; delayMs?: number }) => {
    if (isMemoryRequest(m)) port.postMessage(memoryAnswer(m));
    if (m.type === 'crash') {
      setImmediate(() => {
        throw new Error('fixture crash');
      });
    }
    if (m.type === 'fail') port.postMessage({ type: 'error', seq: m.seq, code: 'bad_input', message: 'fixture says no' });
    if (m.type === 'echo') setTimeout(() => port.postMessage({ type: 'echoed', seq: m.seq, value: m.value }), m.delayMs ?? 0);
    if (m.type === 'stray') port.postMessage({ type: 'echoed', seq: 9999, value: -1 });
  });
  port.postMessage({ type: 'ready', name: 'echo' });
}
