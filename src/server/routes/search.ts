/**
 * GET /v1/search, POST /v1/videos and GET /v1/videos/file (the indexed videos, with Range, for the
 * search page's player). Files are only read inside the configured file roots (source-policy.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Hono } from 'hono';
import { SightlineError } from '../../errors.js';
import { parseQuery } from '../../search/query.js';
import type { SearchService } from '../../search/service.js';
import { authorize, clientIp, type AppContext, type AppEnv, type ServerParts } from '../context.js';
import { IndexVideoBody, VideoFileQuery, type SearchResponse } from '../schemas.js';
import { checkFileSource, checkSource } from '../source-policy.js';
import { jsonBody } from './streams.js';

const VIDEO_TYPES: Record<string, string> = {
  '.mp4': 'video/mp4',
  '.m4v': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
  '.mkv': 'video/x-matroska',
  '.ts': 'video/mp2t',
  '.ogv': 'video/ogg',
};

/** Playback URL of an indexed video (the page adds ?token= when it has one). */
export const videoFileUrl = (video: string): string => `/v1/videos/file?path=${encodeURIComponent(video)}`;

function searchOf(parts: ServerParts): SearchService {
  if (!parts.search) throw new SightlineError('not_found', 'search is not enabled on this server');
  return parts.search;
}

/** Parses `Range: bytes=a-b` (one range; suffix ranges too). undefined = whole file; null = unsatisfiable. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // malformed or multi-range: serve it whole (RFC 9110 allows ignoring)
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}

function sendFile(c: AppContext, file: string): Response {
  const size = fs.statSync(file).size;
  const range = parseRange(c.req.header('range'), size);
  const headers: Record<string, string> = {
    'Content-Type': VIDEO_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-cache',
  };
  if (range === null) return new Response(null, { status: 416, headers: { ...headers, 'Content-Range': `bytes */${size}` } });
  const { start, end } = range ?? { start: 0, end: size - 1 };
  headers['Content-Length'] = String(size === 0 ? 0 : end - start + 1);
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  if (c.req.method === 'HEAD' || size === 0) return new Response(null, { status: range ? 206 : 200, headers });
  const body = Readable.toWeb(fs.createReadStream(file, { start, end })) as ReadableStream;
  return new Response(body, { status: range ? 206 : 200, headers });
}

export function searchRoutes(parts: ServerParts): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/search', async (c) => {
    authorize(c, parts, 'view');
    const query = parseQuery({ q: c.req.query('q'), k: c.req.query('k') });
    const found = await searchOf(parts).search(query);
    const body: SearchResponse = {
      ...found,
      hits: found.hits.map((h) => (h.kind === 'clip' ? { ...h, url: videoFileUrl(h.video) } : h)),
      results: found.results.map((r) => ({ ...r, url: videoFileUrl(r.video) })),
    };
    return c.json(body);
  });

  app.post('/videos', async (c) => {
    authorize(c, parts, 'write');
    const body = IndexVideoBody.parse(await jsonBody(await c.req.text(), c.req.header('content-type')));
    parts.limiter.take(clientIp(c));
    const search = searchOf(parts);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(body.path)) throw new SightlineError('bad_input', `path "${body.path}": only files under the server's file roots can be indexed`);
    const file = await checkSource(body.path, parts.policy);
    const report = await search.indexFile(file);
    const failed = report.failed[0];
    if (failed) throw new SightlineError(failed.code as 'bad_input', failed.reason);
    const done = report.indexed[0];
    return c.json({ video: file, indexed: Boolean(done), clips: done?.clips ?? 0, durationSec: done?.durationSec ?? 0, skipped: report.skipped[0]?.reason ?? null, url: videoFileUrl(file) }, done ? 201 : 200);
  });

  const serveVideo = (c: AppContext): Response => {
    authorize(c, parts, 'view');
    const { path: requested } = VideoFileQuery.parse(c.req.query());
    return sendFile(c, checkFileSource(requested, requested, parts.policy));
  };
  app.get('/videos/file', serveVideo);
  app.on('HEAD', '/videos/file', serveVideo);
  return app;
}
