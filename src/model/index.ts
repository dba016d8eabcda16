/**
 * src/model — the model runtime. Public surface: validate a model folder, and an EnginePool whose
 * worker threads own the onnxruntime sessions and each stream's KV cache (one message per
 * stream-second). docs/model-format.md is the graph interface.
 */
export { ModelConfigSchema, formatSeconds, type ModelConfig } from './config.js';
export { loadModelFolder, type ModelFolder } from './model-folder.js';
export { EnginePool, type EnginePoolOptions, type FramesMessage } from './pool.js';
export { availableProviders } from './providers.js';
export { defaultModelDir, SHIPPED_MODEL_DIR } from './default-model.js';
export type { SamplingOptions } from './sampler.js';
export type { SecondResult, StreamEngineOptions } from './stream-engine.js';
export { TextTokenizer } from './tokenizer.js';
