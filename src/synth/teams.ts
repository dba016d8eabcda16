import { Rng } from './rng.js';

/** RGB triple 0-255. */
export type Rgb = readonly [number, number, number];

/**
 * A team is named by the colour of its kit, so a vision model can learn the team from pixels and the
 * commentary's team name is visible on screen. Kits avoid pitch greens.
 */
export interface Kit {
  name: string;
  shirt: Rgb;
  /** Keepers wear a colour unlike both outfield kits. */
  keeper: Rgb;
}

export const KIT_PALETTE: readonly Kit[] = [
  { name: 'Red', shirt: [214, 40, 40], keeper: [250, 220, 30] },
  { name: 'Blue', shirt: [40, 80, 220], keeper: [255, 140, 0] },
  { name: 'Yellow', shirt: [245, 215, 40], keeper: [120, 40, 160] },
  { name: 'White', shirt: [240, 240, 240], keeper: [30, 30, 30] },
  { name: 'Black', shirt: [25, 25, 30], keeper: [0, 200, 220] },
  { name: 'Orange', shirt: [250, 130, 20], keeper: [60, 60, 200] },
  { name: 'Purple', shirt: [130, 50, 170], keeper: [240, 240, 100] },
  { name: 'Sky Blue', shirt: [110, 190, 245], keeper: [200, 30, 100] },
];

/** Colours that look alike on a small frame never meet in one match. */
const CLASHES: ReadonlyArray<[string, string]> = [
  ['Red', 'Orange'],
  ['Blue', 'Purple'],
  ['Blue', 'Sky Blue'],
  ['Yellow', 'Orange'],
  ['White', 'Sky Blue'],
  ['Yellow', 'White'],
];

function clash(a: Kit, b: Kit): boolean {
  return CLASHES.some(([x, y]) => (a.name === x && b.name === y) || (a.name === y && b.name === x));
}

const KEEPER_FALLBACKS: readonly Rgb[] = [
  [255, 105, 180],
  [0, 200, 220],
  [200, 200, 200],
  [30, 30, 30],
];

function distance(a: Rgb, b: Rgb): number {
  return Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]);
}

/** Keeper colour far from every shirt and the other keeper, so keepers stand out. */
function keeperFor(kit: Kit, taken: readonly Rgb[]): Kit {
  const ok = (c: Rgb): boolean => taken.every((t) => distance(c, t) > 150);
  if (ok(kit.keeper)) return kit;
  const keeper = KEEPER_FALLBACKS.find(ok) ?? kit.keeper;
  return { ...kit, keeper };
}

/** Two distinct, non-clashing kits for a match; keepers get a colour that neither team wears. */
export function pickKits(rng: Rng): [Kit, Kit] {
  const home = rng.pick(KIT_PALETTE);
  const away = rng.pick(KIT_PALETTE.filter((k) => k !== home && !clash(k, home)));
  const homeFixed = keeperFor(home, [home.shirt, away.shirt]);
  const awayFixed = keeperFor(away, [home.shirt, away.shirt, homeFixed.keeper]);
  return [homeFixed, awayFixed];
}
