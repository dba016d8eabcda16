/** GET /v1/streams/:id/commentary.vtt|.srt|.jsonl: the transcript so far, from disk (a gateway: from JetStream). */
import { Hono } from 'hono';
import { authorize, type AppEnv, type ServerParts } from '../context.js';
import { streamIdParam } from '../schemas.js';
import { toJsonl, toSrt, toWebVtt } from '../transcript-export.js';
import type { Segment } from '../transcript-store.js';

/** Where a stream's transcript is read: the TranscriptStore, or a cluster's segment log. */
export interface TranscriptSource {
  readSegments(id: string): Segment[] | Promise<Segment[]>;
}

const FORMATS = {
  vtt: { type: 'text/vtt; charset=utf-8', render: toWebVtt },
  srt: { type: 'application/x-subrip; charset=utf-8', render: toSrt },
  jsonl: { type: 'application/x-ndjson; charset=utf-8', render: toJsonl },
} as const;

export function transcriptRoutes(parts: ServerParts, store: TranscriptSource): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/:id/:file{commentary\\.(vtt|srt|jsonl)}', async (c) => {
    authorize(c, parts, 'view');
    const id = streamIdParam(c.req.param('id'));
    parts.manager.get(id);
    const ext = c.req.param('file').split('.')[1] as keyof typeof FORMATS;
    const format = FORMATS[ext];
    c.header('Content-Type', format.type);
    c.header('Content-Disposition', `inline; filename="${id}.${ext}"`);
    return c.body(format.render(await store.readSegments(id)));
  });
  return app;
}
