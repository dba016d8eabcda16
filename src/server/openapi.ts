/**
 * /openapi.json, assembled from the zod schemas (z.toJSONSchema) so the document cannot drift from
 * the validation. WebSocket and SSE messages are published under components.schemas and described
 * on their GET routes (OpenAPI has no native WebSocket object; `x-websocket` carries the details).
 */
import { z } from 'zod';
import { DEFAULT_HISTORY_SIZE, DEFAULT_MAX_QUEUE_BYTES } from './fanout.js';
import {
  ClientMessage,
  CreateStreamBody,
  CreatedStream,
  ErrorBody,
  IndexVideoBody,
  IndexedVideo,
  SearchResponse,
  Health,
  ServerMessage,
  StreamInfo,
  StreamList,
  VIDEO_FRAME_LAYOUT,
} from './schemas.js';
import { DEFAULT_K, MAX_K, SearchQuery } from '../search/query.js';

const SCHEMAS: Record<string, z.ZodType> = {
  CreateStreamBody,
  CreatedStream,
  StreamInfo,
  StreamList,
  Error: ErrorBody,
  Health,
  ServerMessage,
  ClientMessage,
  SearchResponse,
  IndexVideoBody,
  IndexedVideo,
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const errors = {
  400: { description: 'Malformed request', content: json('Error') },
  401: { description: 'Missing or wrong bearer token', content: json('Error') },
  404: { description: 'No such stream', content: json('Error') },
};
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const sinceParam = { name: 'since', in: 'query', required: false, schema: { type: 'number', minimum: 0 }, description: 'Stream second the client has everything before (the end of its last commentary); history starts there. Gateways of a cluster agree on it (a seq is per process), and their SSE ids are these seconds' };
const afterParam = { name: 'after', in: 'query', required: false, schema: { type: 'integer', minimum: -1 }, description: 'Last seq already received (SSE also reads Last-Event-ID); history starts after it' };
const tokenParam = { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'Bearer token for clients that cannot set headers' };

export function buildOpenApi(): Record<string, unknown> {
  const schemas: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(SCHEMAS)) schemas[name] = jsonSchema(schema, name === 'CreateStreamBody' || name === 'ClientMessage' || name === 'IndexVideoBody' ? 'input' : 'output');
  const liveDoc = `Sends \`hello\`, then up to ${DEFAULT_HISTORY_SIZE} history messages (plus the latest status), then live ServerMessage JSON. A viewer with more than ${DEFAULT_MAX_QUEUE_BYTES} bytes queued is dropped (WebSocket close 4008 "slow consumer").`;
  const transcript = (ext: string, type: string) => ({
    get: { summary: `Transcript so far as ${ext}`, parameters: [idParam, tokenParam], responses: { 200: { description: 'Transcript', content: { [type]: { schema: { type: 'string' } } } }, ...errors } },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Sightline', version: '0.1.0', description: 'Real-time video commentary and video search. Write routes and viewing may require `Authorization: Bearer <token>`.' },
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    security: [{ bearer: [] }, {}],
    paths: {
      '/v1/streams': {
        post: {
          summary: 'Start a stream (optionally on a given device; its engine pool starts on first use)',
          requestBody: { required: true, content: json('CreateStreamBody') },
          responses: { 201: { description: 'Started', content: json('CreatedStream') }, ...errors, 403: { description: 'Source denied by policy', content: json('Error') }, 413: { description: 'Body too large', content: json('Error') }, 429: { description: 'Rate limited (`Retry-After`: seconds)', content: json('Error') }, 500: { description: "The device's engine pool could not start (or another engine failure)", content: json('Error') }, 503: { description: "Full: the stream's device has no room by its measured load (`device_full`, the message names the device and its load) or the operator's `--max-streams` is reached (`stream_limit`); `Retry-After` says when to try again", headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } }, content: json('Error') } },
        },
        get: { summary: 'List streams (including ended ones from earlier runs)', parameters: [tokenParam], responses: { 200: { description: 'Streams', content: json('StreamList') }, ...errors } },
      },
      '/v1/streams/{id}': {
        get: { summary: 'One stream: state, stats and the device its engine runs on', parameters: [idParam, tokenParam], responses: { 200: { description: 'Stream', content: json('StreamInfo') }, ...errors } },
        delete: {
          summary: 'Stop a stream (transcript kept); ?purge=true also deletes it',
          parameters: [idParam, { name: 'purge', in: 'query', schema: { type: 'string', enum: ['true', 'false'] } }],
          responses: { 200: { description: 'Stopped', content: json('StreamInfo') }, ...errors },
        },
      },
      '/v1/streams/{id}/commentary.vtt': transcript('WebVTT', 'text/vtt'),
      '/v1/streams/{id}/commentary.srt': transcript('SRT', 'application/x-subrip'),
      '/v1/streams/{id}/commentary.jsonl': transcript('JSON lines', 'application/x-ndjson'),
      '/v1/streams/{id}/events': {
        get: { summary: 'Server-Sent Events: `data: <ServerMessage>`', description: liveDoc, parameters: [idParam, afterParam, sinceParam, tokenParam], responses: { 200: { description: 'Event stream (`id: <seq>` + `data: <ServerMessage>`)', content: { 'text/event-stream': { schema: ref('ServerMessage') } } }, ...errors } },
      },
      '/v1/streams/{id}/ws': {
        get: {
          summary: 'WebSocket: ServerMessage out, ClientMessage in',
          description: `${liveDoc} Malformed client messages get an \`error\` message (seq -1) and change nothing.`,
          parameters: [idParam, afterParam, sinceParam, tokenParam],
          'x-websocket': { send: ref('ClientMessage'), receive: ref('ServerMessage') },
          responses: { 101: { description: 'Switching protocols' }, ...errors },
        },
      },
      '/v1/streams/{id}/video': {
        get: { summary: 'WebSocket: low-delay JPEG preview frames', description: VIDEO_FRAME_LAYOUT, parameters: [idParam, tokenParam], responses: { 101: { description: 'Switching protocols' }, ...errors } },
      },
      '/v1/search': {
        get: {
          summary: 'Find indexed clips (and live commentary segments) by a text description',
          description: 'Clips are ranked by cosine similarity of the retrieval model\'s text and video vectors; live segments by full-text (BM25) relevance. Thumbnails are JPEG data: URIs.',
          parameters: [
            { name: 'q', in: 'query', required: true, schema: jsonSchema(SearchQuery.shape.q, 'input'), description: SearchQuery.shape.q.description },
            { name: 'k', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: MAX_K, default: DEFAULT_K }, description: SearchQuery.shape.k.description },
            tokenParam,
          ],
          responses: { 200: { description: 'Results', content: json('SearchResponse') }, ...errors },
        },
      },
      '/v1/videos': {
        post: {
          summary: 'Index one video file from an allowed file root (waits until it is indexed)',
          requestBody: { required: true, content: json('IndexVideoBody') },
          responses: { 201: { description: 'Indexed', content: json('IndexedVideo') }, 200: { description: 'Already indexed (same content and model)', content: json('IndexedVideo') }, ...errors, 403: { description: 'Outside the file roots', content: json('Error') }, 429: { description: 'Too many videos waiting', content: json('Error') } },
        },
      },
      '/v1/videos/file': {
        get: {
          summary: 'An indexed video file (inside the file roots), with HTTP Range support for seeking',
          parameters: [{ name: 'path', in: 'query', required: true, schema: { type: 'string' } }, tokenParam],
          responses: { 200: { description: 'The whole file' }, 206: { description: 'The requested byte range' }, 416: { description: 'Range not satisfiable' }, ...errors, 403: { description: 'Outside the file roots', content: json('Error') } },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { 200: { description: 'OK', content: json('Health') } } } },
      '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'Text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } } } },
    },
  };
}
