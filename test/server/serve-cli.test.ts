import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerServe, startService } from '../../src/cli/serve.js';
import { postJson, tempDir } from './helpers.js';
import { scriptedFactory } from './scripted-runner.js';

describe('sightline serve', () => {
  it('documents its flags in --help', () => {
    const program = new Command().exitOverride();
    let out = '';
    registerServe(program).configureOutput({ writeOut: (s) => (out += s) });
    expect(() => program.parse(['node', 'sightline', 'serve', '--help'])).toThrow();
    for (const flag of ['--port', '--host', '--data', '--token', '--file-root', '--allow-private', '--model', '--workers', '--max-streams', '--demo']) expect(out).toContain(flag);
  });

  it('startService applies token, file roots and the private-address switch', async () => {
    const root = tempDir('sightline-media-');
    fs.writeFileSync(path.join(root, 'a.mp4'), 'x');
    const { factory, calls } = scriptedFactory({ intervalMs: 3_600_000 });
    process.env.SIGHTLINE_LOG_LEVEL = 'silent';
    const server = await startService({ port: 0, host: '127.0.0.1', data: tempDir(), token: 't', fileRoot: [root], allowPrivate: true }, factory);
    try {
      expect((await postJson(server.url, '/v1/streams', { source: 'a.mp4' })).status).toBe(401);
      const auth = { authorization: 'Bearer t' };
      expect((await postJson(server.url, '/v1/streams', { source: 'a.mp4' }, auth)).status).toBe(201);
      expect((await postJson(server.url, '/v1/streams', { source: 'rtsp://10.0.0.1/x' }, auth)).status).toBe(201);
      expect((await postJson(server.url, '/v1/streams', { source: 'http://169.254.169.254/' }, auth)).status).toBe(403);
      expect(calls.map((c) => c.source)).toEqual([fs.realpathSync(path.join(root, 'a.mp4')), 'rtsp://10.0.0.1/x']);
    } finally {
      await server.close();
      delete process.env.SIGHTLINE_LOG_LEVEL;
    }
  });
});
