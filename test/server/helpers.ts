/** Shared test set-up: a real server on a free loopback port with a temp data dir. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { createServer, type RunningServer, type ServerOptions } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { scriptedFactory, type ScriptOptions } from './scripted-runner.js';

export function tempDir(prefix = 'sightline-server-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startServer(
  overrides: Partial<ServerOptions> = {},
  script: ScriptOptions = {},
): Promise<RunningServer & ReturnType<typeof scriptedFactory> & { dataDir: string; roots: string }> {
  const doubles = scriptedFactory(script);
  const dataDir = overrides.dataDir ?? tempDir();
  const roots = tempDir('sightline-media-');
  fs.writeFileSync(path.join(roots, 'match.mp4'), 'not really a video');
  const server = await createServer({
    factory: doubles.factory,
    dataDir,
    port: 0,
    logger: createLogger('silent'),
    policy: { fileRoots: [roots], allowLoopback: true },
    ...overrides,
  });
  return Object.assign(server, doubles, { dataDir, roots });
}

export async function postJson(base: string, route: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(base + route, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** Connects a ws client and collects parsed JSON messages. */
export function wsClient(url: string, options: WebSocket.ClientOptions = {}): { ws: WebSocket; messages: any[]; opened: Promise<void>; closed: Promise<{ code: number; reason: string }> } {
  const ws = new WebSocket(url, options);
  const messages: any[] = [];
  ws.on('message', (data) => messages.push(JSON.parse(data.toString())));
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { ws, messages, opened, closed };
}

export async function waitFor<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // A check that never settles (a request nobody answers) fails at the deadline too, naming what was awaited.
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what} (the check itself did not finish)`)), Math.max(0, deadline - Date.now()) + 1000);
    });
    const value = await Promise.race([Promise.resolve(check()), expired]).finally(() => clearTimeout(timer));
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
