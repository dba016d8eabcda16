/** /healthz, /metrics, /openapi.json, /docs and the static web page. */
import fs from 'node:fs';
import path from 'node:path';
import { Hono } from 'hono';
import type { AppEnv, ServerParts } from '../context.js';
import { buildOpenApi } from '../openapi.js';

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

export function systemRoutes(parts: ServerParts, webDir: string): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const openapi = JSON.stringify(buildOpenApi());

  app.get('/healthz', (c) => c.json({ ok: true as const, streams: parts.manager.list().length, uptimeSec: (Date.now() - parts.startedMs) / 1000 }));
  app.get('/metrics', async (c) => {
    c.header('Content-Type', parts.metrics.contentType);
    return c.body(await parts.metrics.text());
  });
  app.get('/openapi.json', (c) => {
    c.header('Content-Type', 'application/json');
    return c.body(openapi);
  });

  // Static files: a fixed allow-list of names read from web/, never a path from the request.
  const files = new Map<string, string>();
  for (const name of fs.existsSync(webDir) ? fs.readdirSync(webDir) : []) {
    if (STATIC_TYPES[path.extname(name)]) files.set(`/${name}`, path.join(webDir, name));
  }
  const serve = (urlPath: string, file: string) =>
    app.get(urlPath, (c) => {
      c.header('Content-Type', STATIC_TYPES[path.extname(file)]);
      c.header('Cache-Control', 'no-cache');
      return c.body(fs.readFileSync(file));
    });
  for (const [urlPath, file] of files) serve(urlPath, file);
  if (files.has('/index.html')) serve('/', files.get('/index.html')!);
  if (files.has('/docs.html')) serve('/docs', files.get('/docs.html')!);
  return app;
}

/** Finds web/ next to the package root, from src/server (tsx) or dist/src/server (built). */
export function defaultWebDir(fromDir: string): string {
  let dir = fromDir;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'web');
    if (fs.existsSync(path.join(candidate, 'index.html'))) return candidate;
    dir = path.dirname(dir);
  }
  return path.join(fromDir, '..', '..', 'web');
}
