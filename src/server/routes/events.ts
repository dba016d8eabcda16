/**
 * GET /v1/streams/:id/events: Server-Sent Events. Each message is `data: <json>\n\n` where the JSON
 * is the same Buffer every other viewer gets. The outbound queue is the response's
 * `writableLength`; when it passes the bound the response is destroyed (slow consumer).
 */
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { authorize, type AppEnv, type ServerParts } from '../context.js';
import type { ViewerSink } from '../fanout.js';
import { StreamId } from '../schemas.js';

/** Comment line sent on idle connections so proxies keep them open. */
export const SSE_KEEPALIVE_MS = 15_000;

const DATA = Buffer.from('data: ');
const END = Buffer.from('\n\n');

export function eventRoutes(parts: ServerParts): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/:id/events', (c) => {
    authorize(c, parts, 'view');
    const stream = parts.manager.get(StreamId.parse(c.req.param('id')));
    const res = c.env.outgoing;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    const sink: ViewerSink = {
      queuedBytes: () => res.writableLength,
      write(out) {
        res.cork();
        res.write(DATA);
        res.write(out.json);
        res.write(END);
        process.nextTick(() => res.uncork());
      },
      closeSlow: () => res.destroy(),
      closeNormal: () => res.end(),
    };
    const keepalive = setInterval(() => {
      if (res.writableLength === 0) res.write(': keepalive\n\n');
    }, SSE_KEEPALIVE_MS);
    keepalive.unref();
    res.on('close', () => {
      clearInterval(keepalive);
      stream.hub.detach(sink);
    });
    stream.hub.attach(sink, (historyCount) => ({ type: 'hello', stream: stream.meta.id, state: stream.state, historyCount }));
    return RESPONSE_ALREADY_SENT;
  });
  return app;
}
