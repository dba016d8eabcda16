/**
 * src/search — video search: the indexer (ingest -> clips -> vectors -> LanceDB), the live commentary
 * index and text queries. The retrieval encoders (the project's sightline-retrieval folders or a CLIP
 * ONNX folder) are src/model's; re-exported here for search's callers. docs/search.md.
 */
export {
  CLIP_DEFAULTS,
  createEncoderRuntime,
  defaultRetrievalDir,
  EncoderClient,
  loadEncoderFolder,
  SHIPPED_RETRIEVAL_DIR,
  type ClipEncoder,
  type ClipFrames,
  type EncoderOptions,
  type EncoderRuntime,
  type EncoderSpec,
} from '../model/index.js';
export { decodeFrames, readClips, frameTimeSec, type ClipPlan, type DecodedClip } from './clip-reader.js';
export { probeVideo } from './video-probe.js';
export { collectVideoFiles, indexVideos, VIDEO_EXTENSIONS, type IndexEvent, type IndexReport } from './indexer.js';
export { SearchStore, clipsTableName, type AnnIndexAction, type ClipHit, type StoreOptions, type VideoRow } from './store.js';
export { annParams, EXACT_BELOW_ROWS, type AnnParams } from './ann-params.js';
export { LiveSegmentIndex, type LiveHit, type LiveSegment } from './live-index.js';
export { DEFAULT_K, MAX_K, MAX_QUERY_CHARS, SearchQuery, parseQuery, runSearch, type ClipResult, type LiveResult, type SearchResults } from './query.js';
export { SearchService, type SearchServiceOptions } from './service.js';
