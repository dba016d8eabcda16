/**
 * How much of telling held-out clips apart needs order (docs/retrieval-model.md, "Caption versions").
 * A caption's order-free key keeps what happened and drops when: the setting (teams, score, minute, half)
 * plus the told events as a multiset and, for versions 2 and 3, the teams on the ball and the thirds of the pitch
 * as sets (version 1 states one of each already). Two pairs with the same key but different captions
 * are order twins: a model that sees what happened but not in which order cannot tell them apart, so it
 * ranks a clip with k twins first with chance 1 / (k + 1) at best. The mean of that over the pairs is the
 * order-blind ceiling of text-to-video R@1.
 */
import type { CaptionVersion } from '../src/synth/index.js';

export interface OrderStats {
  pairs: number;
  /** Pairs whose order-free key another pair shares. */
  withTwin: number;
  /** Best text-to-video R@1 (percent) of a model that ignores order. */
  orderBlindCeilingR1: number;
}

const SETTING = /^(.*?(?:first|second) half): (.*)$/;

/**
 * The order-free key of a caption. `minute` false also drops the minute from the setting: the key of a
 * model that reads teams and score but not the clock (version 3 names no minute anyway).
 */
export function orderFreeKey(caption: string, version: CaptionVersion, minute = true): string {
  const m = SETTING.exec(caption);
  if (!m) throw new Error(`not a clip caption: ${caption}`);
  const setting = minute ? m[1] : m[1].replace(/, [^,]* minute/, '');
  return `${setting}#${version === 1 ? bodyV1(m[2]) : bodyV2(m[2])}`;
}

/** "A, then B; play in midfield, Red in possession." -> events sorted + the rest as is. */
function bodyV1(body: string): string {
  const [events, rest] = body.split('; ');
  return `${events.split(', then ').sort().join('+')}|${rest}`;
}

/** "Red on the ball in midfield, then play moves to the left end, then Blue on the ball, finally ..." */
function bodyV2(body: string): string {
  const parts = body.replace(/\.$/, '').split(/, (?:then|finally) /);
  const opening = /^(.*?) (?:on|keep) the ball (?:in|at) (.*)$/.exec(parts[0]);
  if (!opening) throw new Error(`not a version-2 caption: ${body}`);
  const teams = new Set([opening[1]]);
  const zones = new Set([opening[2]]);
  const events: string[] = [];
  for (const p of parts.slice(1)) {
    const zone = /^play moves (?:back )?to (.*)$/.exec(p);
    const team = /^(.*?) (?:back )?on the ball$/.exec(p);
    if (zone) zones.add(zone[1]);
    else if (team) teams.add(team[1]);
    else events.push(p);
  }
  return `${[...teams].sort().join('+')}|${[...zones].sort().join('+')}|${events.sort().join('+')}`;
}

/** Order twins and the order-blind ceiling over the pairs' captions (unique, as the protocol keeps them). */
export function orderStats(captions: readonly string[], version: CaptionVersion, minute = true): OrderStats {
  const keys = captions.map((c) => orderFreeKey(c, version, minute));
  const count = new Map<string, number>();
  for (const k of keys) count.set(k, (count.get(k) ?? 0) + 1);
  const ceiling = keys.reduce((sum, k) => sum + 1 / count.get(k)!, 0) / Math.max(1, keys.length);
  return { pairs: keys.length, withTwin: keys.filter((k) => count.get(k)! > 1).length, orderBlindCeilingR1: Math.round(ceiling * 1000) / 10 };
}
