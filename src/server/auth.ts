/**
 * Optional bearer tokens. `writeToken` guards every route that changes state (POST/DELETE,
 * WebSocket set_prompt); `viewToken` guards reading stream data (lists, transcripts, WS/SSE,
 * video). A write token is also accepted for viewing. The token comes from
 * `Authorization: Bearer <t>` or, for EventSource/browser WebSockets, `?token=<t>`.
 * /healthz, /metrics, /openapi.json, /docs and the static page stay open.
 */
import { timingSafeEqual } from 'node:crypto';
import { SightlineError } from '../errors.js';

export interface AuthOptions {
  writeToken?: string;
  viewToken?: string;
}

export type Access = 'view' | 'write';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Token presented by a request: Authorization header first, then the `token` query parameter. */
export function presentedToken(authorization: string | undefined | null, url: URL): string | undefined {
  const m = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  if (m) return m[1];
  return url.searchParams.get('token') ?? undefined;
}

/** Whether `token` grants `access`. An unset token leaves that access open. */
export function grants(options: AuthOptions, access: Access, token: string | undefined): boolean {
  const matches = (secret: string | undefined) => secret !== undefined && token !== undefined && sameSecret(token, secret);
  if (access === 'write') return !options.writeToken || matches(options.writeToken);
  return !options.viewToken || matches(options.viewToken) || matches(options.writeToken);
}

/** Throws `unauthorized` unless the token grants access. */
export function requireAccess(options: AuthOptions, access: Access, token: string | undefined): void {
  if (grants(options, access, token)) return;
  throw new SightlineError('unauthorized', token === undefined ? `a bearer token is required to ${access}` : `the bearer token does not allow ${access}`);
}
