import { packagePath } from '../package-root.js';

/**
 * The model shipped in models/ (see its model card). Resolved from the package root so it is found
 * from dist/src/ and from src/ alike, whatever the working directory; $SIGHTLINE_MODEL overrides it.
 */
export const SHIPPED_MODEL_DIR = packagePath('models', 'sightline-commentator-v5-int8');

export function defaultModelDir(): string {
  return process.env.SIGHTLINE_MODEL ?? SHIPPED_MODEL_DIR;
}
