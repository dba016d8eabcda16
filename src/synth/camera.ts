import { PITCH, WORLD_HZ, clamp } from './pitch.js';
import type { WorldView } from './state.js';

/** Where the broadcast camera looks: centre in pitch metres and how many metres fit across the frame. */
export interface CameraState {
  centreX: number;
  centreY: number;
  viewWidthM: number;
}

/** Screen y is squeezed by this factor: the camera looks down at the pitch from the stand, not from above. */
export const TILT = 0.62;

const WIDE_M = 44;
const TIGHT_M = 30;
const MAX_VIEW_HEIGHT_M = 40;

/**
 * A broadcast camera that follows play: it leads the ball a little, eases towards it (so passes pan
 * smoothly instead of jumping), and zooms in while a chance is on. Updated once per world tick, so the
 * shot is the same whatever frame rate renders it.
 */
export class BroadcastCamera {
  readonly state: CameraState;
  private chanceHoldTicks = 0;
  /** View width in open play for this frame shape; tall frames get a narrower one so players stay large. */
  private readonly wideM: number;

  /** `aspect` is the frame's width / height. */
  constructor(private readonly aspect: number) {
    this.wideM = Math.min(WIDE_M, MAX_VIEW_HEIGHT_M * aspect * TILT);
    this.state = { centreX: PITCH.lengthM / 2, centreY: PITCH.widthM / 2, viewWidthM: this.wideM };
  }

  update(world: WorldView): void {
    const aspect = this.aspect;
    const b = world.ball;
    this.chanceHoldTicks = world.chance ? WORLD_HZ * 2 : Math.max(0, this.chanceHoldTicks - 1);
    const wantWidth = this.chanceHoldTicks > 0 ? this.wideM * (TIGHT_M / WIDE_M) : this.wideM;
    const s = this.state;
    s.viewWidthM += (wantWidth - s.viewWidthM) * 0.03;
    const viewHeightM = s.viewWidthM / aspect / TILT;
    const wantX = clamp(b.x + b.vx * 0.5, s.viewWidthM / 2 - 4, PITCH.lengthM - s.viewWidthM / 2 + 4);
    // Tall frames (square, portrait) may see the whole width: then stay centred instead of clamping.
    const lo = viewHeightM / 2 - 6;
    const hi = PITCH.widthM - viewHeightM / 2 + 6;
    const wantY = lo < hi ? clamp(b.y, lo, hi) : PITCH.widthM / 2;
    // Exponential ease: about a third of a second to close most of a gap.
    s.centreX += (wantX - s.centreX) * 0.08;
    s.centreY += (wantY - s.centreY) * 0.06;
  }
}
