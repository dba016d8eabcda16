/**
 * A real nats-server for the cluster tests: JetStream on, loopback only, a random free port, a temporary store
 * (removed by stop()). restart() starts it again on the same port and store, as an operator's restart would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestNats {
  url: string;
  port: number;
  /** Kills it (SIGKILL) and starts it again on the same port and store. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitForPort(dir: string, child: ChildProcess): Promise<number> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`nats-server exited with ${child.exitCode}`);
    const file = fs.readdirSync(dir).find((f) => f.endsWith('.ports'));
    if (file) {
      const ports = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as { nats: string[] };
      return Number(new URL(ports.nats[0]).port);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('nats-server did not report its port');
}

function launch(store: string, portsDir: string, port: number): ChildProcess {
  fs.rmSync(portsDir, { recursive: true, force: true });
  fs.mkdirSync(portsDir, { recursive: true });
  return spawn('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store, '--ports_file_dir', portsDir], { stdio: 'ignore' });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

export async function startNats(): Promise<TestNats> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sightline-nats-'));
  const store = path.join(root, 'store');
  const portsDir = path.join(root, 'ports');
  let child = launch(store, portsDir, -1);
  const port = await waitForPort(portsDir, child);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    async restart() {
      await kill(child);
      child = launch(store, portsDir, port);
      await waitForPort(portsDir, child);
    },
    async stop() {
      await kill(child);
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
