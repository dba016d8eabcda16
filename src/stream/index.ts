/** src/stream — one CommentarySession per stream; it publishes SessionEvents (events.ts). */
export { CommentarySession, packFrames, type EngineClient, type SessionOptions } from './session.js';
export type { CommentaryEvent, EndEvent, ErrorEvent, SessionEvent, StatusEvent } from './events.js';
