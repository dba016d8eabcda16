/**
 * Pitch geometry and team shape, in metres. x runs along the pitch from the left goal line (0) to the
 * right one (LENGTH_M); y runs across from the far touchline (0, top of the screen) to the near one.
 * We play 7 a side (1 keeper + 2-3-1) on a small pitch so players are large on a 224 px model frame.
 */
export const PITCH = {
  lengthM: 80,
  widthM: 52,
  goalWidthM: 7.32,
  goalDepthM: 1.8,
  penaltyDepthM: 14,
  penaltyWidthM: 30,
  goalAreaDepthM: 5,
  goalAreaWidthM: 14,
  penaltySpotM: 10,
  centreRadiusM: 8,
} as const;

export const PLAYERS_PER_TEAM = 7;

/** World simulation rate; the sim is identical whatever frame rate the renderer uses. */
export const WORLD_HZ = 25;
export const WORLD_DT_SEC = 1 / WORLD_HZ;

export interface FormationSlot {
  shirt: number;
  /** 0 = own goal line, 1 = opponent's goal line. */
  u: number;
  /** 0 = left touchline seen from own goal, 1 = right. */
  v: number;
  keeper: boolean;
}

export const FORMATION: readonly FormationSlot[] = [
  { shirt: 1, u: 0.02, v: 0.5, keeper: true },
  { shirt: 2, u: 0.22, v: 0.3, keeper: false },
  { shirt: 5, u: 0.22, v: 0.7, keeper: false },
  { shirt: 7, u: 0.45, v: 0.18, keeper: false },
  { shirt: 8, u: 0.4, v: 0.5, keeper: false },
  { shirt: 11, u: 0.45, v: 0.82, keeper: false },
  { shirt: 9, u: 0.66, v: 0.5, keeper: false },
];

/** +1 when `team` attacks the right-hand goal (x = LENGTH_M) in this period; sides swap each half. */
export function attackDir(team: number, period: number): 1 | -1 {
  return (team + period) % 2 === 0 ? 1 : -1;
}

/** World x of the goal `team` attacks. */
export function goalXAttacked(team: number, period: number): number {
  return attackDir(team, period) === 1 ? PITCH.lengthM : 0;
}

/** Team-relative (u, v) to world metres. */
export function toWorld(u: number, v: number, dir: 1 | -1): { x: number; y: number } {
  return dir === 1
    ? { x: u * PITCH.lengthM, y: v * PITCH.widthM }
    : { x: (1 - u) * PITCH.lengthM, y: (1 - v) * PITCH.widthM };
}

export function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}
