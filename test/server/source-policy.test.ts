/** The source policy on its own: every deny rule decided before anything connects. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSource, classifyAddress, type LookupAll, type SourcePolicyOptions } from '../../src/server/source-policy.js';
import { tempDir } from './helpers.js';

async function codeOf(source: string, options: SourcePolicyOptions): Promise<string> {
  try {
    await checkSource(source, options);
    return 'allowed';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

/** A resolver that never touches the network and records what it was asked. */
function fakeDns(table: Record<string, string[]>): LookupAll & { asked: string[] } {
  const asked: string[] = [];
  const fn = async (host: string) => {
    asked.push(host);
    const addrs = table[host];
    if (!addrs) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { asked });
}

describe('classifyAddress', () => {
  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a00:1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['255.255.255.255', 'reserved'],
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe('network sources', () => {
  const dns = fakeDns({});
  const strict: SourcePolicyOptions = { lookup: dns };

  it.each([
    'rtsp://10.0.0.1/live',
    'http://169.254.169.254/latest/meta-data/',
    'rtmp://192.168.1.1/app/key',
    'https://[fe80::1]/x.m3u8',
    'srt://[::1]:9000',
    'udp://0.0.0.0:1234',
    'http://127.0.0.1:8080/',
    'http://2130706433/', // decimal 127.0.0.1: the URL parser normalizes it first
    'http://0x7f.1/',
    'http://[::ffff:192.168.0.1]/',
  ])('denies %s without resolving or connecting', async (source) => {
    expect(await codeOf(source, strict)).toBe('forbidden');
    expect(dns.asked).toEqual([]);
  });

  it('allows loopback only when configured, private only when configured, metadata only on its own switch', async () => {
    expect(await codeOf('http://127.0.0.1:9/x', { allowLoopback: true })).toBe('allowed');
    expect(await codeOf('rtsp://10.0.0.1/x', { allowLoopback: true })).toBe('forbidden');
    expect(await codeOf('rtsp://10.0.0.1/x', { allowPrivate: true })).toBe('allowed');
    expect(await codeOf('http://169.254.169.254/', { allowPrivate: true })).toBe('forbidden');
    expect(await codeOf('http://169.254.169.254/', { allowMetadata: true })).toBe('allowed');
    expect(await codeOf('rtsp://8.8.8.8/live', {})).toBe('allowed');
  });

  it('resolves host names and denies if any address is denied', async () => {
    const lookup = fakeDns({ 'cam.example': ['203.0.113.7'], 'mixed.example': ['203.0.113.7', '10.1.2.3'], 'meta.example': ['169.254.169.254'] });
    expect(await codeOf('rtsp://cam.example/live', { lookup })).toBe('allowed');
    expect(await codeOf('rtsp://mixed.example/live', { lookup })).toBe('forbidden');
    expect(await codeOf('http://meta.example/', { lookup, allowPrivate: true })).toBe('forbidden');
    expect(await codeOf('http://nowhere.example/', { lookup })).toBe('source_unreachable');
    expect(await codeOf('http://cam.example/', { lookup, denyHosts: ['CAM.example'] })).toBe('forbidden');
    expect(lookup.asked).toEqual(['cam.example', 'mixed.example', 'meta.example', 'nowhere.example']);
  });

  it('denies a real host name resolving to loopback (localhost) unless loopback is allowed', async () => {
    expect(await codeOf('http://localhost:9/stream', {})).toBe('forbidden');
    expect(await codeOf('http://localhost:9/stream', { allowLoopback: true })).toBe('allowed');
  });

  it.each(['gopher://example.com/', 'ftp://example.com/a.mp4', 'javascript:alert(1)', 'data:video/mp4;base64,AAAA', 'concat:a.mp4|b.mp4', 'pipe:0'])(
    'rejects unknown scheme %s',
    async (source) => {
      expect(await codeOf(source, { fileRoots: [tempDir()] })).toBe('source_unknown_protocol');
    },
  );

  it('rejects option-like and control-character sources', async () => {
    expect(await codeOf('-i /etc/passwd', { fileRoots: [tempDir()] })).toBe('bad_input');
    expect(await codeOf('rtsp://8.8.8.8/\nx', {})).toBe('bad_input');
  });
});

describe('file sources', () => {
  const root = tempDir('sightline-root-');
  const outside = tempDir('sightline-outside-');
  fs.writeFileSync(path.join(root, 'match.mp4'), 'x');
  fs.mkdirSync(path.join(root, 'sub'));
  fs.writeFileSync(path.join(root, 'sub', 'b.mp4'), 'x');
  fs.writeFileSync(path.join(outside, 'secret.mp4'), 'x');
  fs.symlinkSync(path.join(outside, 'secret.mp4'), path.join(root, 'escape.mp4'));
  fs.symlinkSync(outside, path.join(root, 'escape-dir'));
  fs.symlinkSync(path.join(root, 'match.mp4'), path.join(root, 'alias.mp4'));
  const options = { fileRoots: [root] };

  it('allows files inside the root, relative or absolute, and returns the real path', async () => {
    expect(await checkSource('match.mp4', options)).toBe(fs.realpathSync(path.join(root, 'match.mp4')));
    expect(await checkSource(path.join(root, 'sub', 'b.mp4'), options)).toBe(fs.realpathSync(path.join(root, 'sub', 'b.mp4')));
    expect(await checkSource('alias.mp4', options)).toBe(fs.realpathSync(path.join(root, 'match.mp4')));
    expect(await checkSource(`file://${path.join(root, 'match.mp4')}`, options)).toBe(fs.realpathSync(path.join(root, 'match.mp4')));
  });

  it.each([
    ['../../../../etc/passwd', 'forbidden'],
    ['sub/../../outside.mp4', 'forbidden'],
    ['/etc/passwd', 'forbidden'],
    ['file:///etc/passwd', 'forbidden'],
    ['file://evil.example/share/a.mp4', 'forbidden'],
    ['escape.mp4', 'forbidden'],
    ['escape-dir/secret.mp4', 'forbidden'],
    ['missing.mp4', 'source_not_found'],
    ['sub', 'bad_input'],
  ])('%s -> %s', async (source, code) => {
    expect(await codeOf(source, options)).toBe(code);
  });

  it('refuses every file when no roots are configured', async () => {
    expect(await codeOf(path.join(root, 'match.mp4'), {})).toBe('forbidden');
  });
});
