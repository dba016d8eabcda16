import { fileURLToPath } from 'node:url';

/**
 * The model shipped in models/ (see its model card). Resolved from this file's location so it is found
 * from dist/ and from src/ alike, whatever the working directory; $SIGHTLINE_MODEL overrides it.
 */
export const SHIPPED_MODEL_DIR = fileURLToPath(new URL('../../models/sightline-commentator-v5-int8', import.meta.url));

export function defaultModelDir(): string {
  return process.env.SIGHTLINE_MODEL ?? SHIPPED_MODEL_DIR;
}
