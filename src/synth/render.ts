import { TILT, type CameraState } from './camera.js';
import { fillEllipse, fillRect, blendRect, strokeEllipse, type Canvas } from './draw.js';
import { drawScoreboard } from './overlay.js';
import { PITCH } from './pitch.js';
import type { WorldView } from './state.js';

const GRASS_A = [58, 138, 60];
const GRASS_B = [68, 154, 66];
const BOARD = [30, 60, 150];
const STAND = [48, 46, 56];
const LINE = [236, 236, 236];
const SHADOW = [0, 0, 0];
const NET = [225, 225, 225];
const SKIN = [224, 180, 140];
const STRIPE_M = 8;

/**
 * Software renderer: world + camera -> packed RGB24 frame of any size. The background is built as
 * one row pattern per kind of row (mown grass, advertising board, stand) and copied row by row, so
 * per-frame cost is a memcpy plus small shapes; no per-pixel closures.
 */
export class FrameRenderer {
  readonly widthPx: number;
  readonly heightPx: number;
  readonly frameBytes: number;
  private readonly grassRow: Uint8Array;
  private readonly boardRow: Uint8Array;
  private readonly standRow: Uint8Array;
  private readonly order: number[] = [];

  constructor(widthPx: number, heightPx: number) {
    this.widthPx = widthPx;
    this.heightPx = heightPx;
    this.frameBytes = widthPx * heightPx * 3;
    this.grassRow = new Uint8Array(widthPx * 3);
    this.boardRow = new Uint8Array(widthPx * 3);
    this.standRow = new Uint8Array(widthPx * 3);
    for (let x = 0; x < widthPx; x++) {
      this.standRow.set((x >> 2) % 3 === 0 ? [58, 54, 66] : STAND, x * 3);
    }
  }

  /** Draws one frame into `out` (length frameBytes); the scoreboard only when `scoreboard` (world 2 hides it at times). */
  render(world: WorldView, cam: CameraState, out: Uint8Array, scoreboard = true): void {
    const c: Canvas = { data: out, widthPx: this.widthPx, heightPx: this.heightPx };
    const s = this.widthPx / cam.viewWidthM;
    const sy = s * TILT;
    const ox = this.widthPx / 2 - cam.centreX * s;
    const oy = this.heightPx / 2 - cam.centreY * sy;
    this.background(out, s, sy, ox, oy);
    this.lines(c, s, sy, ox, oy);
    this.people(c, world, s, sy, ox, oy);
    if (scoreboard) drawScoreboard(c, [world.kits[0].shirt, world.kits[1].shirt], world.score, world.clockSec);
  }

  private background(out: Uint8Array, s: number, sy: number, ox: number, oy: number): void {
    const w = this.widthPx;
    for (let x = 0; x < w; x++) {
      const wx = (x + 0.5 - ox) / s;
      const stripe = Math.floor(wx / STRIPE_M) & 1;
      const g = stripe ? GRASS_B : GRASS_A;
      const o = x * 3;
      this.grassRow[o] = g[0];
      this.grassRow[o + 1] = g[1];
      this.grassRow[o + 2] = g[2];
      // Boards scroll with the camera: a light panel every 10 m.
      const panel = Math.floor((wx + 1000) / 10) & 1;
      this.boardRow[o] = panel ? BOARD[0] : 230;
      this.boardRow[o + 1] = panel ? BOARD[1] : 230;
      this.boardRow[o + 2] = panel ? BOARD[2] : 230;
    }
    const rowBytes = w * 3;
    for (let y = 0; y < this.heightPx; y++) {
      const wy = (y + 0.5 - oy) / sy;
      const row = wy > -3 && wy < PITCH.widthM + 3 ? this.grassRow : wy > -4.5 && wy < PITCH.widthM + 4.5 ? this.boardRow : this.standRow;
      out.set(row, y * rowBytes);
    }
  }

  private lines(c: Canvas, s: number, sy: number, ox: number, oy: number): void {
    const L = PITCH.lengthM;
    const W = PITCH.widthM;
    const tx = Math.max(1, Math.round(0.14 * s));
    const ty = Math.max(1, Math.round(0.14 * sy));
    const X = (x: number): number => ox + x * s;
    const Y = (y: number): number => oy + y * sy;
    const hline = (x0: number, x1: number, y: number): void => fillRect(c, X(x0), Y(y) - ty / 2, (x1 - x0) * s, ty, LINE);
    const vline = (x: number, y0: number, y1: number): void => fillRect(c, X(x) - tx / 2, Y(y0), tx, (y1 - y0) * sy, LINE);
    const box = (x0: number, x1: number, y0: number, y1: number): void => {
      hline(x0, x1, y0);
      hline(x0, x1, y1);
      vline(x0, y0, y1);
      vline(x1, y0, y1);
    };
    // Goals first, behind the goal lines: net as a translucent box, posts as lines.
    const gy0 = W / 2 - PITCH.goalWidthM / 2;
    const gy1 = W / 2 + PITCH.goalWidthM / 2;
    const gd = PITCH.goalDepthM;
    blendRect(c, X(-gd), Y(gy0), gd * s, (gy1 - gy0) * sy, NET, 110);
    blendRect(c, X(L), Y(gy0), gd * s, (gy1 - gy0) * sy, NET, 110);
    box(-gd, 0, gy0, gy1);
    box(L, L + gd, gy0, gy1);
    box(0, L, 0, W);
    vline(L / 2, 0, W);
    const pb0 = W / 2 - PITCH.penaltyWidthM / 2;
    const pb1 = W / 2 + PITCH.penaltyWidthM / 2;
    box(0, PITCH.penaltyDepthM, pb0, pb1);
    box(L - PITCH.penaltyDepthM, L, pb0, pb1);
    const ga0 = W / 2 - PITCH.goalAreaWidthM / 2;
    const ga1 = W / 2 + PITCH.goalAreaWidthM / 2;
    box(0, PITCH.goalAreaDepthM, ga0, ga1);
    box(L - PITCH.goalAreaDepthM, L, ga0, ga1);
    const r = PITCH.centreRadiusM;
    strokeEllipse(c, X(L / 2), Y(W / 2), r * s, r * sy, tx, LINE);
    const spot = Math.max(1, 0.3 * s);
    fillEllipse(c, X(L / 2), Y(W / 2), spot, spot * TILT, LINE);
    fillEllipse(c, X(PITCH.penaltySpotM), Y(W / 2), spot, spot * TILT, LINE);
    fillEllipse(c, X(L - PITCH.penaltySpotM), Y(W / 2), spot, spot * TILT, LINE);
  }

  private people(c: Canvas, world: WorldView, s: number, sy: number, ox: number, oy: number): void {
    const players = world.players;
    // Far players first so nearer ones overlap them.
    const order = this.order;
    order.length = 0;
    for (let i = 0; i < players.length; i++) order.push(i);
    order.sort((a, b) => players[a].y - players[b].y || a - b);
    const bodyRx = Math.max(1.2, 0.5 * s);
    const bodyRy = Math.max(1.8, 0.85 * s);
    const outline = Math.max(1, Math.round(0.12 * s));
    const head = Math.max(0.8, 0.26 * s);
    for (const i of order) {
      const p = players[i];
      const fx = ox + p.x * s;
      const fy = oy + p.y * sy;
      if (fx < -3 * s || fx > this.widthPx + 3 * s || fy < -3 * s || fy > this.heightPx + 3 * s) continue;
      const kit = world.kits[p.team];
      const shirt = p.keeper ? kit.keeper : kit.shirt;
      const dark = [shirt[0] >> 1, shirt[1] >> 1, shirt[2] >> 1];
      fillEllipse(c, fx + 0.3 * s, fy, 0.8 * s, 0.35 * s, SHADOW, 90);
      const by = fy - bodyRy;
      fillEllipse(c, fx, by, bodyRx + outline, bodyRy + outline, dark);
      fillEllipse(c, fx, by, bodyRx, bodyRy, shirt);
      fillEllipse(c, fx, by - bodyRy - head * 0.6, head, head, SKIN);
    }
    const b = world.ball;
    const bx = ox + b.x * s;
    const groundY = oy + b.y * sy;
    const br = Math.max(1.2, 0.28 * s);
    fillEllipse(c, bx + b.z * 0.3 * s, groundY, br * 1.2, br * 0.6, SHADOW, 110);
    const ballY = groundY - br - b.z * s;
    fillEllipse(c, bx, ballY, br + 1, br + 1, [30, 30, 30]);
    fillEllipse(c, bx, ballY, br, br, [250, 250, 250]);
  }
}
