/** POST/GET/DELETE /v1/streams... */
import { Hono } from 'hono';
import { SightlineError } from '../../errors.js';
import { authorize, clientIp, type AppEnv, type ServerParts } from '../context.js';
import { CreateStreamBody, streamIdParam } from '../schemas.js';
import { checkSource } from '../source-policy.js';
import { z } from 'zod';

const DeleteQuery = z.object({ purge: z.enum(['true', 'false']).optional(), token: z.string().optional() });

/** Reads the body as JSON with one clear error for a missing/wrong content type or bad JSON. */
export async function jsonBody(text: string, contentType: string | undefined): Promise<unknown> {
  if (!contentType || !/^application\/json\b/i.test(contentType)) {
    throw new SightlineError('bad_input', 'request body must be JSON (Content-Type: application/json)');
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SightlineError('bad_input', `malformed JSON body: ${(err as Error).message}`);
  }
}

export function streamRoutes(parts: ServerParts): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { manager } = parts;

  app.post('/', async (c) => {
    authorize(c, parts, 'write');
    const body = CreateStreamBody.parse(await jsonBody(await c.req.text(), c.req.header('content-type')));
    parts.limiter.take(clientIp(c));
    // The policy decides before the factory (and so anything that connects) is called.
    const source = await checkSource(body.source, parts.policy);
    if (body.model !== undefined && !parts.models?.includes(body.model)) {
      const allowed = parts.models?.length ? `it runs ${parts.models.map((m) => `"${m}"`).join(', ')}` : 'it runs one model, chosen by serve --model';
      throw new SightlineError('bad_input', `body.model: "${body.model}" is not a model this server runs (${allowed}; serve --allow-model DIR adds one)`);
    }
    const stream = await manager.create(source, body.fps, body.prompt, body.device, body.model ? { model: body.model } : {});
    c.header('Location', `/v1/streams/${stream.meta.id}`);
    return c.json({ id: stream.meta.id }, 201);
  });

  app.get('/', (c) => {
    authorize(c, parts, 'view');
    return c.json({ streams: manager.list().map((s) => manager.info(s)) });
  });

  app.get('/:id', (c) => {
    authorize(c, parts, 'view');
    return c.json(manager.info(manager.get(streamIdParam(c.req.param('id')))));
  });

  app.delete('/:id', async (c) => {
    authorize(c, parts, 'write');
    const id = streamIdParam(c.req.param('id'));
    const query = DeleteQuery.parse(c.req.query());
    const stream = manager.get(id);
    await manager.stop(id, query.purge === 'true');
    return c.json(query.purge === 'true' ? { id, purged: true } : manager.info(stream));
  });

  return app;
}
