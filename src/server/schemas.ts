/**
 * Every request body, query and message the server accepts or sends, as zod schemas. Types are
 * inferred from these (no hand-written duplicates) and /openapi.json is generated from them.
 */
import { z } from 'zod';
import { SightlineError } from '../errors.js';
import { ClipResult, LiveResult, SearchResults } from '../search/query.js';
import { DEVICES } from '../model/providers.js';

/** Largest accepted prompt, in characters. */
export const MAX_PROMPT_CHARS = 2000;

export const CreateStreamBody = z
  .object({
    source: z.string().min(1).max(2048).describe('File path under a configured root, or rtsp/rtmp/http(s)/hls/srt/udp URL'),
    fps: z.number().positive().max(30).default(2).describe('Sampling rate in frames per second'),
    prompt: z.string().max(MAX_PROMPT_CHARS).optional().describe('Instruction for the commentary model'),
    device: z
      .enum(DEVICES)
      .optional()
      .describe("Where this stream's model runs (webgpu: the GPU, falling back to the CPU with a notice when there is none); default: the server's device"),
    model: z
      .string()
      .min(1)
      .max(200)
      .optional()
      .describe("The commentary model, by name, among those this server runs (its --model and each --allow-model; an unknown name is a 400 listing them); default: the server's --model"),
  })
  .strict();
export type CreateStreamBody = z.infer<typeof CreateStreamBody>;

export const StreamId = z.string().regex(/^[a-z0-9_-]{1,64}$/, 'stream ids are 1-64 of a-z 0-9 _ -');

/** The `:id` of a URL: a bad one is a 400 naming the path parameter (not the body, which has no id). */
export function streamIdParam(raw: string | undefined): string {
  const parsed = StreamId.safeParse(raw);
  if (parsed.success) return parsed.data;
  const shown = (raw ?? '').length > 70 ? `${raw!.slice(0, 64)}...` : raw;
  throw new SightlineError('bad_input', `path parameter id: ${parsed.error.issues[0]?.message ?? 'invalid'} (got "${shown}")`);
}

export const StreamState = z
  .enum(['starting', 'live', 'reconnecting', 'lagging', 'out_of_domain', 'ended', 'failed'])
  .describe('out_of_domain: the picture is not the world the model knows; the stream stays silent until it is');

export const StreamStatsSchema = z.object({
  state: StreamState,
  time: z.number().describe('Stream time of the latest processed second (s)'),
  ingestFps: z.number(),
  drops: z.number().int(),
  lagSec: z.number(),
  stepLatencyMs: z.number(),
  cacheBytes: z.number().int(),
  skippedSeconds: z.number().int(),
  reason: z.string().optional().describe('While reconnecting (and when failed): why, naming the source; while out_of_domain: why, naming the model'),
  oodScore: z.number().optional().describe("Models with an out-of-domain signal: the gate's score over the last seconds (out_of_domain at or above the threshold in `model.outOfDomain`)"),
  attempt: z.number().int().optional().describe('While reconnecting: 0 = the connection went quiet; n = the n-th reconnect of this outage'),
  resumed: z.boolean().optional().describe('On the first live status after a source outage or a server restart'),
});

/** Where a stream's engine runs: known once the stream has started. */
export const StreamDevice = z.object({
  requested: z.enum(DEVICES).optional().describe('The device the create request asked for; absent: the server default'),
  provider: z.string().describe('Execution provider the engine actually runs on (cpu, webgpu, ...)'),
  kv: z.string().describe('Where the K/V cache lives: host (CPU memory) or device (GPU memory)'),
  notice: z.string().optional().describe('Why the stream does not run on the device asked for (e.g. no GPU adapter found)'),
});
export type StreamDevice = z.infer<typeof StreamDevice>;

/** The commentator a stream runs and what it knows. */
export const StreamModel = z.object({
  name: z.string(),
  knows: z.string().optional().describe('What the model was trained on; absent when its folder does not say (models users bring)'),
  outOfDomain: z
    .object({ threshold: z.number(), windowSec: z.number().int() })
    .optional()
    .describe('The out-of-domain gate (ood.json in the model folder); absent: the model has no out-of-domain signal and comments on any picture'),
});
export type StreamModel = z.infer<typeof StreamModel>;

export const StreamInfo = z.object({
  id: StreamId,
  source: z.string(),
  fps: z.number(),
  prompt: z.string().optional(),
  state: StreamState,
  createdAt: z.string().describe('ISO 8601'),
  endedAt: z.string().optional(),
  resumedAt: z.string().optional().describe('When a restarted server last resumed this stream after a crash (ISO 8601)'),
  viewers: z.number().int(),
  segments: z.number().int().describe('Commentary segments in the transcript'),
  stats: StreamStatsSchema.optional(),
  device: StreamDevice.optional().describe('Where the engine runs; absent until the stream has started'),
  model: StreamModel.optional().describe('The commentator and what it knows; absent until the stream has started'),
});
export type StreamInfo = z.infer<typeof StreamInfo>;

export const CreatedStream = z.object({ id: StreamId });
export const StreamList = z.object({ streams: z.array(StreamInfo) });
export const ErrorBody = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
export const Health = z.object({ ok: z.literal(true), streams: z.number().int(), uptimeSec: z.number() });

/** Resume point for WS (?after=) and SSE (Last-Event-ID or ?after=): the last seq the client has. */
export const ResumeQuery = z.object({
  after: z.coerce.number().int().min(-1).default(-1).describe('Last seq already received; history starts after it'),
  since: z.coerce.number().min(0).optional().describe('Stream second the client has everything before (the end of its last commentary); history starts there, the same on every gateway'),
});

export const TokenQuery = z.object({ token: z.string().optional().describe('Bearer token for EventSource/browsers') });

// ---- Messages sent to viewers (WebSocket text frames and SSE `data:` lines) ----
/** Fields every outbound message carries: stream id, per-stream sequence number, stream time. */
const Envelope = {
  stream: StreamId,
  seq: z.number().int().describe('Per-stream sequence number, increasing by 1 per published message'),
  time: z.number().describe('Stream time in seconds this message refers to'),
  wallMs: z.number().describe('Server wall clock (ms since epoch) when the message was published'),
};

export const CommentaryMessage = z.object({
  type: z.literal('commentary'),
  ...Envelope,
  start: z.number(),
  end: z.number(),
  text: z.string(),
  tokens: z.number().int(),
  latencyMs: z.number(),
});
export const StatusMessage = z.object({ type: z.literal('status'), ...Envelope, ...StreamStatsSchema.shape });
/** Seconds with no picture (source outage, or a server restart in between); sent when commentary resumes. */
export const GapMessage = z.object({ type: z.literal('gap'), ...Envelope, start: z.number(), end: z.number(), reason: z.string() });
export const ErrorMessage = z.object({ type: z.literal('error'), ...Envelope, code: z.string(), message: z.string() });
export const EndMessage = z.object({ type: z.literal('end'), ...Envelope });
/** First message on every connection; history (if any) follows, then live messages. */
export const HelloMessage = z.object({
  type: z.literal('hello'),
  stream: StreamId,
  state: StreamState,
  historyCount: z.number().int().describe('How many history messages follow before live ones'),
});
/** Reply to a client ping. */
export const PongMessage = z.object({ type: z.literal('pong'), stream: StreamId, wallMs: z.number() });

export const ServerMessage = z.discriminatedUnion('type', [
  HelloMessage,
  CommentaryMessage,
  StatusMessage,
  GapMessage,
  ErrorMessage,
  EndMessage,
  PongMessage,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
export type PublishedMessage =
  | z.infer<typeof CommentaryMessage>
  | z.infer<typeof StatusMessage>
  | z.infer<typeof GapMessage>
  | z.infer<typeof ErrorMessage>
  | z.infer<typeof EndMessage>;

// ---- Messages accepted from WebSocket clients ----
export const PingClientMessage = z.object({ type: z.literal('ping') }).strict();
export const SetPromptClientMessage = z
  .object({ type: z.literal('set_prompt'), prompt: z.string().min(1).max(MAX_PROMPT_CHARS) })
  .strict();
export const ClientMessage = z.discriminatedUnion('type', [PingClientMessage, SetPromptClientMessage]);
export type ClientMessage = z.infer<typeof ClientMessage>;

/** Video WebSocket binary frame layout (documented here, not a JSON message). */
export const VIDEO_FRAME_LAYOUT =
  'Binary: bytes 0-7 float64 LE ptsSec (stream time), bytes 8-15 float64 LE wallMs, then one JPEG image.';

// ---- Search (src/search; docs/search.md): result shapes come from src/search/query.ts ----

export const IndexVideoBody = z
  .object({ path: z.string().min(1).max(4096).describe('Video file under a configured file root (absolute, or relative to the first root)') })
  .strict();

export const VideoFileQuery = z.object({
  path: z.string().min(1).max(4096).describe('Absolute path of an indexed video (as returned by /v1/search)'),
  token: z.string().optional(),
});

/** /v1/search adds where to play each clip from. */
const PlayableClip = ClipResult.extend({ url: z.string().describe('Where to play the video from (GET /v1/videos/file, supports Range)') });
export const SearchResponse = SearchResults.extend({
  hits: z.array(z.discriminatedUnion('kind', [PlayableClip, LiveResult])).describe('The k best of clips and live segments together, by score, best first'),
  results: z.array(PlayableClip).describe('Indexed clips, best first'),
});
export type SearchResponse = z.infer<typeof SearchResponse>;
export const IndexedVideo = z.object({
  video: z.string(),
  indexed: z.boolean().describe('false when the file was already indexed with the same content and model'),
  clips: z.number().int(),
  durationSec: z.number(),
  skipped: z.string().nullable(),
  url: z.string(),
});

/** Turns a zod error into one line naming the field and the problem. */
export function describeZodError(err: z.ZodError): string {
  const issue = err.issues[0];
  if (!issue) return 'invalid input';
  const where = issue.path.length ? issue.path.join('.') : 'body';
  return `${where}: ${issue.message}`;
}
