/**
 * Public surface of the evaluation judges. Pure, offline modules only: the model-running harness
 * (commentary-run.ts) is imported directly by the CLI so that importing this index never loads a model.
 */
export * from './commentary-metrics.js';
export * from './event-parser.js';
export * from './text-metrics.js';
export * from './windows.js';
export * from './preference.js';
export * from './llm-judge.js';
export * from './inf-streams-data.js';
