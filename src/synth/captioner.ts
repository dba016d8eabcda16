import { captionerV1, type Captioner } from './captions.js';
import { OrderedCaptioner } from './captions-v2.js';
import type { CaptionVersion } from './types.js';

/** A fresh captioner of `version` for one match (versions 2 and 3 remember corners from clip to clip). */
export function createCaptioner(version: CaptionVersion): Captioner {
  return version === 1 ? captionerV1 : new OrderedCaptioner({ clock: version === 2 });
}
