/** Small things a first-time user meets: a bad stream id in a URL, the favicon. */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer } from './helpers.js';

let server: Awaited<ReturnType<typeof startServer>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('papercuts', () => {
  it('a bad stream id in the URL is a 400 naming the path parameter, on every route that takes one', async () => {
    server = await startServer();
    for (const [method, route] of [
      ['GET', '/v1/streams/Bad.Id!'],
      ['DELETE', '/v1/streams/Bad.Id!'],
      ['GET', '/v1/streams/Bad.Id!/commentary.vtt'],
      ['GET', '/v1/streams/Bad.Id!/events'],
    ]) {
      const res = await fetch(server.url + route, { method });
      expect(res.status, `${method} ${route}`).toBe(400);
      const { error } = (await res.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe('bad_input');
      expect(error.message).toBe('path parameter id: stream ids are 1-64 of a-z 0-9 _ - (got "Bad.Id!")');
    }
  });

  it('serves /favicon.ico from web/', async () => {
    server = await startServer();
    const res = await fetch(`${server.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // ICO header: reserved 0, type 1 (icon)
    expect(await (await fetch(`${server.url}/`)).text()).toContain('<link rel="icon" href="/favicon.ico">');
  });
});
