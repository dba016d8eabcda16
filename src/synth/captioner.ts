import { captionerV1, type Captioner } from './captions.js';
import { OrderedCaptioner } from './captions-v2.js';
import type { CaptionVersion } from './types.js';

/** A fresh captioner of `version` for one match (version 2 remembers corners from clip to clip). */
export function createCaptioner(version: CaptionVersion): Captioner {
  return version === 2 ? new OrderedCaptioner() : captionerV1;
}
