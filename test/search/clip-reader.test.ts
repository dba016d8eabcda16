/**
 * The clip grid on a video whose brightness encodes time (luma = 16 + 18 t, 12.5 s): 10 s clips, 8
 * frames at the centres of 8 equal parts (at most one input frame early), a shorter last clip with the
 * grid frames that fall inside it.
 */
import { describe, expect, it } from 'vitest';
import { readClips, type DecodedClip } from '../../src/search/clip-reader.js';
import { probeVideo } from '../../src/search/video-probe.js';
import { media } from '../ingest/media.js';

const SLOPE = 18; // luma per second
const ramp = () =>
  media('luma-ramp-12.5s.mp4', ['-f', 'lavfi', '-i', `nullsrc=s=64x36:r=25:d=12.5,geq=lum='16+${SLOPE}*T':cb=128:cr=128`, '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p']);

/** Time shown by a frame: grey limited-range luma Y becomes RGB 1.164 (Y - 16) (swscale rounds by ~2). */
function shownTime(clip: DecodedClip, f: number): number {
  const bytes = clip.width * clip.height * 3;
  let s = 0;
  for (let i = f * bytes; i < (f + 1) * bytes; i += 3) s += clip.rgb[i];
  return s / (clip.width * clip.height) / (1.164 * SLOPE);
}

describe('readClips', () => {
  it('samples 8 frames per 10 s clip at the part centres, and a short last clip', async () => {
    const path = await ramp();
    const { durationSec } = await probeVideo(path);
    expect(durationSec).toBeCloseTo(12.5, 1);
    const clips: DecodedClip[] = [];
    for await (const c of readClips(path, { clipSeconds: 10, framesPerClip: 8, width: 32, height: 18 }, durationSec)) clips.push(c);
    expect(clips.map((c) => [c.index, c.startSec, c.endSec, c.frames])).toEqual([
      [0, 0, 10, 8],
      [1, 10, durationSec, 2], // ends with the video; grid frames at 10.625 and 11.875 (13.125 is past the end)
    ]);
    for (const c of clips) {
      for (let f = 0; f < c.frames; f++) {
        const centre = c.startSec + (f + 0.5) * 1.25;
        // The start of a part is 0.625 s from its centre; conversion rounding and one input frame stay under 0.25 s.
        expect(Math.abs(shownTime(c, f) - centre), `clip ${c.index} frame ${f}`).toBeLessThan(0.25);
      }
    }
  });
});
