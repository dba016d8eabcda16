/**
 * Decides whether a stream source may be opened, BEFORE anything connects or opens it.
 *
 * - File sources (plain paths or file: URLs) must resolve, after realpath (symlinks followed),
 *   inside one of the configured roots; relative paths resolve against the first root. With no
 *   roots configured, file sources are refused.
 * - Network sources: only the schemes in NETWORK_SCHEMES; the host (literal or every address DNS
 *   returns) must not be loopback, private, link-local, unspecified, reserved or a cloud metadata
 *   address unless the config allows that class. Metadata needs its own switch (`allowMetadata`).
 * - Residual risk: ffmpeg resolves the name again when it connects (DNS rebinding); the policy
 *   checks every address the name has at request time.
 */
import dns from 'node:dns/promises';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SightlineError } from '../errors.js';

export const NETWORK_SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'srt', 'udp', 'hls'] as const;

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified' | 'metadata' | 'reserved';

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

export interface SourcePolicyOptions {
  /** Folders file sources must stay inside. */
  fileRoots?: string[];
  /** Allow 127/8 and ::1 (demo, tests). */
  allowLoopback?: boolean;
  /** Allow 10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7, 169.254/16, fe80::/10 (and loopback). */
  allowPrivate?: boolean;
  /** Allow cloud metadata addresses (169.254.169.254, fd00:ec2::254, 100.100.100.200). Rarely wanted. */
  allowMetadata?: boolean;
  /** Host names always refused, before resolving (exact, case-insensitive). */
  denyHosts?: string[];
  /** DNS resolver (tests inject one; default dns.lookup with all addresses). */
  lookup?: LookupAll;
}

function blockList(subnets: [string, number, 'ipv4' | 'ipv6'][]): net.BlockList {
  const list = new net.BlockList();
  for (const [addr, prefix, type] of subnets) list.addSubnet(addr, prefix, type);
  return list;
}

/** Checked in order: metadata before link-local/private, which contain it. */
const CLASSES: [AddressClass, net.BlockList][] = [
  ['metadata', blockList([['169.254.169.254', 32, 'ipv4'], ['169.254.170.2', 32, 'ipv4'], ['100.100.100.200', 32, 'ipv4'], ['fd00:ec2::254', 128, 'ipv6']])],
  ['unspecified', blockList([['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']])],
  ['loopback', blockList([['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']])],
  ['link-local', blockList([['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6']])],
  ['private', blockList([['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']])],
  ['reserved', blockList([['240.0.0.0', 4, 'ipv4'], ['255.255.255.255', 32, 'ipv4']])],
];

/** ::ffff:a.b.c.d and ::ffff:XXXX:XXXX -> a.b.c.d; anything else unchanged. */
function unmapIpv4(address: string): string {
  const lower = address.toLowerCase();
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (hex) {
    const hi = parseInt(hex[1], 16);
    const lo = parseInt(hex[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return address;
}

export function classifyAddress(raw: string): AddressClass {
  const address = unmapIpv4(raw.replace(/^\[|\]$/g, ''));
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family) throw new SightlineError('bad_input', `not an IP address: "${raw}"`);
  for (const [cls, list] of CLASSES) if (list.check(address, family)) return cls;
  return 'public';
}

export function isClassAllowed(cls: AddressClass, options: SourcePolicyOptions): boolean {
  switch (cls) {
    case 'public':
      return true;
    case 'loopback':
      return Boolean(options.allowLoopback || options.allowPrivate);
    case 'private':
    case 'link-local':
      return Boolean(options.allowPrivate);
    case 'metadata':
      return Boolean(options.allowMetadata);
    default:
      return false;
  }
}

const defaultLookup: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

/** Checks a network URL; resolves host names. Returns the URL unchanged when allowed. */
export async function checkNetworkSource(url: URL, source: string, options: SourcePolicyOptions): Promise<string> {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!host) throw new SightlineError('forbidden', `source "${source}" has no host (listening sources are not allowed)`);
  if (options.denyHosts?.some((h) => h.toLowerCase() === host)) {
    throw new SightlineError('forbidden', `source "${source}": host "${host}" is denied by policy`);
  }
  let addresses: string[];
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await (options.lookup ?? defaultLookup)(host)).map((a) => a.address);
    } catch (err) {
      throw new SightlineError('source_unreachable', `source "${source}": cannot resolve host "${host}"`, { cause: err });
    }
    if (addresses.length === 0) throw new SightlineError('source_unreachable', `source "${source}": host "${host}" has no addresses`);
  }
  for (const address of addresses) {
    const cls = classifyAddress(address);
    if (!isClassAllowed(cls, options)) {
      throw new SightlineError('forbidden', `source "${source}": address ${address} is ${cls} and denied by policy`);
    }
  }
  return source;
}

/** Checks a file path against the roots (lexically first, then after realpath). Returns the real path. */
export function checkFileSource(filePath: string, source: string, options: SourcePolicyOptions): string {
  const roots = options.fileRoots ?? [];
  if (roots.length === 0) throw new SightlineError('forbidden', `source "${source}": file sources are disabled (no file roots configured)`);
  const realRoots = roots.map((r) => fs.realpathSync(path.resolve(r)));
  const inside = (p: string) => realRoots.some((root) => {
    const rel = path.relative(root, p);
    return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
  });
  const lexical = path.resolve(realRoots[0], filePath);
  if (!inside(lexical)) throw new SightlineError('forbidden', `source "${source}" is outside the allowed file roots`);
  let real: string;
  try {
    real = fs.realpathSync(lexical);
  } catch (err) {
    throw new SightlineError('source_not_found', `source "${source}" does not exist`, { cause: err });
  }
  if (!inside(real)) throw new SightlineError('forbidden', `source "${source}" links outside the allowed file roots`);
  if (!fs.statSync(real).isFile()) throw new SightlineError('bad_input', `source "${source}" is not a regular file`);
  return real;
}

/** The policy entry point: returns the normalized source to hand to the StreamFactory. */
export async function checkSource(source: string, options: SourcePolicyOptions): Promise<string> {
  if (source.startsWith('-') || /[\0\r\n]/.test(source)) throw new SightlineError('bad_input', 'source must not start with "-" or contain control characters');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(source)?.[1]?.toLowerCase();
  if (!scheme || /^[a-z]:[\\/]/i.test(source)) return checkFileSource(source, source, options);
  if (scheme === 'file') {
    let url: URL;
    try {
      url = new URL(source);
    } catch {
      throw new SightlineError('bad_input', `source "${source}" is not a valid file URL`);
    }
    if (url.hostname && url.hostname !== 'localhost') throw new SightlineError('forbidden', `source "${source}": remote file URLs are not allowed`);
    return checkFileSource(decodeURIComponent(url.pathname), source, options);
  }
  if (!(NETWORK_SCHEMES as readonly string[]).includes(scheme)) {
    throw new SightlineError('source_unknown_protocol', `source "${source}": scheme "${scheme}:" is not supported (use ${NETWORK_SCHEMES.join(', ')} or a file path)`);
  }
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    throw new SightlineError('bad_input', `source "${source}" is not a valid URL`);
  }
  return checkNetworkSource(url, source, options);
}
