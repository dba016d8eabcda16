/**
 * src/stream — start commentary with startCommentary (start.ts): it opens the source through src/ingest and
 * runs one CommentarySession per stream, which publishes SessionEvents (events.ts). Callers (server,
 * evaluation, CLI, benches) import the ingest types they need from here, not from src/ingest.
 */
export { startCommentary, openModelSource, type ChunkSource, type CommentaryOptions, type RunningCommentary, type SourceOptions } from './start.js';
export { CommentarySession, packFrames, sessionEngineOptions, type EngineClient, type SessionOptions } from './session.js';
export { previousTextsFrom } from './transcript.js';
export type { CommentaryEvent, EndEvent, ErrorEvent, GapEvent, SessionEvent, StatusEvent } from './events.js';
export type { Frame, FrameChunk, FrameSource, IngestStats, SourceHealth, SourceState } from '../ingest/index.js';
