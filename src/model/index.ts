/**
 * src/model — the model runtime, the one owner of onnxruntime sessions, execution providers and worker
 * threads. Public surface: validate a model folder, and an EnginePool whose worker threads own the
 * onnxruntime sessions and each stream's KV cache (one message per stream-second); retrieval encoder
 * folders (ours or a CLIP / SigLIP ONNX export), run in this thread (createEncoderRuntime) or in a worker
 * (EncoderClient). docs/model-format.md is the graph interface.
 */
export { ModelConfigSchema, formatSeconds, type ModelConfig } from './config.js';
export { loadModelFolder, type ModelFolder } from './model-folder.js';
export { defaultEngineWorkers, EnginePool, type EnginePoolOptions, type FramesMessage } from './pool.js';
export { DeviceLoad, deviceFullError, type DeviceLoadOptions, type LoadSnapshot } from './device-load.js';
export { availableProviders } from './providers.js';
export { defaultModelDir, SHIPPED_MODEL_DIR } from './default-model.js';
export type { SamplingOptions } from './sampler.js';
export type { SecondResult, StreamEngineOptions } from './stream-engine.js';
export { TextTokenizer } from './tokenizer.js';
export {
  CLIP_DEFAULTS,
  defaultRetrievalDir,
  loadEncoderFolder,
  loadRetrievalModelFolder,
  SHIPPED_RETRIEVAL_DIR,
  type EncoderFolderOptions,
  type EncoderSpec,
  type SiglipScoring,
} from './encoder-folder.js';
export { createEncoderRuntime, embedPackedClips, l2Normalize, siglipProbability, stackRows, type ClipFrames, type EncoderRuntime } from './encoder.js';
export { EncoderClient, type ClipEncoder, type EncoderOptions } from './encoder-client.js';
export { ownMemory, type ThreadMemory } from './thread-memory.js';
export { childExecArgv } from './worker-start.js';
