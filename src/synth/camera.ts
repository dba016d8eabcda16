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

/**
 * A broadcast camera that follows play: it leads the ball a little, eases towards it (so passes pan
 * smoothly instead of jumping), and zooms in while a chance is on. Updated once per world tick, so the
 * shot is the same whatever frame rate renders it.
 */
export class BroadcastCamera {
  readonly state: CameraState = { centreX: PITCH.lengthM / 2, centreY: PITCH.widthM / 2, viewWidthM: WIDE_M };
  private chanceHoldTicks = 0;

  update(world: WorldView, aspect: number): void {
    const b = world.ball;
    this.chanceHoldTicks = world.chance ? WORLD_HZ * 2 : Math.max(0, this.chanceHoldTicks - 1);
    const wantWidth = this.chanceHoldTicks > 0 ? TIGHT_M : WIDE_M;
    const s = this.state;
    s.viewWidthM += (wantWidth - s.viewWidthM) * 0.03;
    const viewHeightM = s.viewWidthM / aspect / TILT;
    const wantX = clamp(b.x + b.vx * 0.5, s.viewWidthM / 2 - 4, PITCH.lengthM - s.viewWidthM / 2 + 4);
    const wantY = clamp(b.y, viewHeightM / 2 - 6, PITCH.widthM - viewHeightM / 2 + 6);
    // Exponential ease: about a third of a second to close most of a gap.
    s.centreX += (wantX - s.centreX) * 0.08;
    s.centreY += (wantY - s.centreY) * 0.06;
  }
}
