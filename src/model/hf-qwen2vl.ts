/**
 * What the Qwen2-VL family does differently from SmolVLM (docs/byo-models.md): a second's frames become one
 * video block of flattened patches (temporal groups of `temporal` frames, `merge` x `merge` patches merged into
 * one feature row), and the decoder's positions are multimodal (t, h, w): text rows (p, p, p), a block's
 * feature rows sharing t and stepping through h and w from the block's start, the next row after the block at
 * its largest position + 1. transformers.js names and orders these the same way (its Qwen2-VL image processor
 * and get_rope_index); train/byo/make_qwen2vl_fixture.py checks them against transformers.
 */
import { AXES, type KvStore } from '../cache/index.js';
import type { VisualRows } from './backend.js';

export interface QwenLayout {
  /** Pixels per patch side, patches per merged side, frames per temporal group (preprocessor_config.json). */
  patch: number;
  merge: number;
  temporal: number;
  /** The frame in patches (the fixed frame size / patch). */
  gridH: number;
  gridW: number;
  /** Rotary pairs following t, h and w, in that order (config.json mrope_section; sums to headDim / 2). */
  mropeSection: [number, number, number];
}

/** Feature rows of one temporal group. */
export function rowsPerGroup(l: QwenLayout): number {
  return (l.gridH / l.merge) * (l.gridW / l.merge);
}

/** Temporal groups for `frames` frames (a short group is filled with its last frame, as Qwen's processors do). */
export function groupsFor(frames: number, l: QwenLayout): number {
  return Math.max(1, Math.ceil(frames / l.temporal));
}

/** Rows of one second's block: <|vision_start|>, the feature rows, <|vision_end|>. */
export function blockRows(frames: number, l: QwenLayout): number {
  return 2 + groupsFor(frames, l) * rowsPerGroup(l);
}

/**
 * pixel_values [frames, 3, H, W] -> the vision encoder's [groups * gridH * gridW, 3 * temporal * patch * patch]:
 * patches ordered by temporal group, merged row block, merged column block, row and column inside the block;
 * each patch's values by channel, frame of the group, row, column.
 */
export function patchify(pixels: Float32Array, frames: number, l: QwenLayout): Float32Array {
  const { patch: p, merge: m, temporal: tp, gridH, gridW } = l;
  const [h, w] = [gridH * p, gridW * p];
  const plane = h * w;
  const groups = groupsFor(frames, l);
  const patchFloats = 3 * tp * p * p;
  const out = new Float32Array(groups * gridH * gridW * patchFloats);
  let at = 0;
  for (let g = 0; g < groups; g++) {
    for (let by = 0; by < gridH / m; by++) {
      for (let bx = 0; bx < gridW / m; bx++) {
        for (let iy = 0; iy < m; iy++) {
          for (let ix = 0; ix < m; ix++) {
            const y0 = (by * m + iy) * p;
            const x0 = (bx * m + ix) * p;
            for (let c = 0; c < 3; c++) {
              for (let t = 0; t < tp; t++) {
                const frame = Math.min(g * tp + t, frames - 1);
                const base = (frame * 3 + c) * plane;
                for (let y = 0; y < p; y++) {
                  const row = base + (y0 + y) * w + x0;
                  for (let x = 0; x < p; x++) out[at++] = pixels[row + x];
                }
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Positions [tokens, 3] (row-major t, h, w) of a step's new rows, after the store's: text rows one after
 * another, each `visual` block laid out as above. A block cut by an earlier step (offset > 0) continues from
 * its start row in the store.
 */
export function mropePositions(store: KvStore, tokens: number, visual: readonly VisualRows[] | undefined, l: QwenLayout): Int32Array {
  const out = new Int32Array(tokens * AXES);
  let next = store.positions.nextAfter();
  let row = 0;
  const put = (t: number, h: number, w: number): void => {
    out.set([t, h, w], row++ * AXES);
    next = Math.max(next, t + 1, h + 1, w + 1);
  };
  const text = (until: number): void => {
    while (row < until) put(next, next, next);
  };
  const perGroup = rowsPerGroup(l);
  const cols = l.gridW / l.merge;
  for (const v of visual ?? []) {
    text(v.at);
    let start = next + 1; // the feature rows' start: after <|vision_start|>
    if (v.offset > 0) {
      if (v.at !== 0) throw new Error('a visual block continued from the store must come first in its step');
      start = store.positions.at(store.length - v.offset)[0] + 1;
    }
    for (let b = v.offset; b < v.offset + v.rows; b++) {
      if (b === 0 || b === v.blockRows - 1) {
        put(next, next, next); // <|vision_start|>, <|vision_end|>: text
        continue;
      }
      const k = b - 1;
      const cell = k % perGroup;
      put(start + Math.floor(k / perGroup), start + Math.floor(cell / cols), start + (cell % cols));
    }
  }
  text(tokens);
  return out;
}
