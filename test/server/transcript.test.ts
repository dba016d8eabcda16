import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { formatTimestamp, toJsonl, toSrt, toWebVtt } from '../../src/server/transcript-export.js';
import { TranscriptStore } from '../../src/server/transcript-store.js';
import { SKIPPED_GAP_REASON } from '../../src/stream/events.js';
import { postJson, startServer, tempDir, waitFor, wsClient } from './helpers.js';

const SEGMENTS = [
  { start: 0, end: 1, text: 'Kick-off at the centre circle.' },
  { start: 1, end: 2, text: ' ...' },
  { start: 2, end: 3, text: 'Pass <wide> to the wing & cross -->' },
  { start: 3599.5, end: 3601.25, text: 'Two\nlines' },
];

describe('transcript exports', () => {
  it('formats timestamps', () => {
    expect(formatTimestamp(0, '.')).toBe('00:00:00.000');
    expect(formatTimestamp(3661.0424, ',')).toBe('01:01:01,042');
    expect(formatTimestamp(59.9996, '.')).toBe('00:01:00.000');
  });

  it('writes exact WebVTT (silence skipped, markup escaped, one line per cue)', () => {
    expect(toWebVtt(SEGMENTS)).toBe(
      'WEBVTT\n\n' +
        '00:00:00.000 --> 00:00:01.000\nKick-off at the centre circle.\n\n' +
        '00:00:02.000 --> 00:00:03.000\nPass &lt;wide&gt; to the wing &amp; cross --&gt;\n\n' +
        '00:59:59.500 --> 01:00:01.250\nTwo lines\n',
    );
  });

  it('writes exact SRT (numbered from 1, comma milliseconds)', () => {
    expect(toSrt(SEGMENTS)).toBe(
      '1\n00:00:00,000 --> 00:00:01,000\nKick-off at the centre circle.\n\n' +
        '2\n00:00:02,000 --> 00:00:03,000\nPass <wide> to the wing & cross -->\n\n' +
        '3\n00:59:59,500 --> 01:00:01,250\nTwo lines\n',
    );
  });

  it('a gap is a [no signal] cue when the source was gone and a [skipped] cue when the server skipped seconds to stay live', () => {
    const gaps = [
      { start: 0, end: 1, text: 'Kick-off.' },
      { start: 1, end: 4, text: '', gap: 'source lost: no data for 2 s' },
      { start: 4, end: 6, text: '', gap: SKIPPED_GAP_REASON },
    ];
    expect(toWebVtt(gaps)).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nKick-off.\n\n00:00:01.000 --> 00:00:04.000\n[no signal]\n\n00:00:04.000 --> 00:00:06.000\n[skipped]\n',
    );
    expect(toSrt(gaps)).toContain('3\n00:00:04,000 --> 00:00:06,000\n[skipped]\n');
  });

  it('writes JSONL with every segment, silence included', () => {
    const lines = toJsonl(SEGMENTS).trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual(SEGMENTS);
  });
});

describe('transcript store', () => {
  it('skips a torn last line and repairs it before appending', () => {
    const dir = tempDir();
    const store = new TranscriptStore(dir);
    const meta = { id: 's_a', source: 'x', fps: 2, createdAt: new Date().toISOString(), state: 'live' };
    const writer = store.create(meta);
    writer.append({ start: 0, end: 1, text: 'one' });
    writer.append({ start: 1, end: 2, text: 'two' });
    writer.close();
    const file = path.join(dir, 'streams', 's_a', 'transcript.jsonl');
    fs.appendFileSync(file, '{"start":2,"end":3,"te');
    expect(store.readSegments('s_a').map((s) => s.text)).toEqual(['one', 'two']);
    const again = store.create(meta);
    again.append({ start: 3, end: 4, text: 'four' });
    again.close();
    expect(store.readSegments('s_a').map((s) => s.text)).toEqual(['one', 'two', 'four']);
  });
});

describe('restart', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('a restarted server lists earlier streams as ended and serves their transcripts', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir }, { intervalMs: 20 });
    const { id } = (await (await postJson(first.url, '/v1/streams', { source: 'match.mp4' })).json()) as { id: string };
    await waitFor(() => first.manager.get(id).segments >= 3, 3000, 'segments');
    await first.close();
    const before = fs.readFileSync(path.join(dataDir, 'streams', id, 'transcript.jsonl'), 'utf8');

    const second = await startServer({ dataDir });
    close = second.close;
    const list = (await (await fetch(`${second.url}/v1/streams`)).json()) as any;
    expect(list.streams).toHaveLength(1);
    expect(list.streams[0]).toMatchObject({ id, state: 'ended' });
    expect(await (await fetch(`${second.url}/v1/streams/${id}/commentary.jsonl`)).text()).toBe(before);
    expect(await (await fetch(`${second.url}/v1/streams/${id}/commentary.vtt`)).text()).toMatch(/^WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nsecond 0/);
  });

  it('survives kill -9 mid-stream: meta.json says live, the torn tail is ignored, the stream resumes from its transcript', async () => {
    const dataDir = tempDir();
    const root = tempDir('sightline-media-');
    fs.writeFileSync(path.join(root, 'a.mp4'), 'x');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'crash-server.ts'), dataDir, root], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (d) => resolve(d.toString().trim()));
      child.once('exit', (code) => reject(new Error(`fixture exited ${code}`)));
    });
    const { id } = (await (await postJson(url, '/v1/streams', { source: 'a.mp4' })).json()) as { id: string };
    const file = path.join(dataDir, 'streams', id, 'transcript.jsonl');
    await waitFor(() => fs.existsSync(file) && fs.readFileSync(file, 'utf8').split('\n').length > 5, 5000, 'transcript lines');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const metaFile = path.join(dataDir, 'streams', id, 'meta.json');
    // What the crashed run left: consistent JSON (written then renamed), the stream wanted running, not `starting`.
    expect(JSON.parse(fs.readFileSync(metaFile, 'utf8'))).toMatchObject({ id, state: 'live' });
    expect(fs.readdirSync(path.dirname(metaFile)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    fs.appendFileSync(file, '{"start":99,"end":100,"text":"torn'); // as if killed mid-write
    const whole = fs.readFileSync(file, 'utf8').split('\n').length - 1;
    const store = new TranscriptStore(dataDir);
    const before = store.readSegments(id);
    expect(before).toHaveLength(whole);

    const server = await startServer({ dataDir }, { intervalMs: 30 });
    close = server.close;
    await Promise.all(server.manager.resuming);
    // Started again with its settings, previous text from the transcript, its clock where the transcript ended.
    expect(server.calls).toHaveLength(1);
    expect(server.calls[0]).toMatchObject({ id, source: path.join(fs.realpathSync(root), 'a.mp4'), resume: { endSec: before.at(-1)!.end, previousTexts: before.map((s) => s.text) } });
    const info = (await (await fetch(`${server.url}/v1/streams/${id}`)).json()) as any;
    expect(info.state).toBe('live');
    expect(JSON.parse(fs.readFileSync(metaFile, 'utf8')).state).toBe('live');
    const viewer = wsClient(`${server.url.replace('http', 'ws')}/v1/streams/${id}/ws`);
    await waitFor(() => viewer.messages.filter((m) => m.type === 'commentary').length >= whole + 2, 5000, 'resumed commentary');
    expect(viewer.messages[0]).toMatchObject({ type: 'hello', state: 'live' });
    const starts = viewer.messages.filter((m) => m.type === 'commentary').map((m) => m.start);
    // The history (whole lines, not the torn one), then new seconds: none lost, none doubled.
    expect(starts).toEqual(starts.map((_, i) => i));
    expect(viewer.messages.some((m) => m.text === 'torn')).toBe(false);
    expect(info.resumedAt).toEqual(expect.any(String));
    viewer.ws.close();
    await server.close();
    close = undefined;
    // Stopped by a graceful shutdown: final on disk, so the next start lists it as ended.
    expect(JSON.parse(fs.readFileSync(metaFile, 'utf8')).state).toBe('ended');
  });
});
