/**
 * Fixture worker for worker-channel.test.ts: answers `echo`, `memory` and `churn` (allocates, then answers its new
 * space's size), fails `fail`, throws on `crash`, or refuses to start.
 */
import { getHeapSpaceStatistics } from 'node:v8';
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
    if (m.type === 'churn') {
      let kept: object[] = [];
      for (let i = 0; i < 3e6; i++) {
        const o = { i, pair: [i, i + 1] };
        if (i % 100 === 0) kept.push(o);
        if (kept.length > 5000) kept = [];
      }
      const newSpace = getHeapSpaceStatistics().find((h) => h.space_name === 'new_space')!;
      port.postMessage({ type: 'echoed', seq: m.seq, value: newSpace.space_size });
    }
    if (m.type === 'stray') port.postMessage({ type: 'echoed', seq: 9999, value: -1 });
  });
  port.postMessage({ type: 'ready', name: 'echo' });
}
