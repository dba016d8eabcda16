/**
 * Reads a commentary line of the synthetic world back into (event type, team). The patterns are built
 * from the synth's own templates (every phrasing, every detail variant), so the judge and the world
 * cannot drift apart: a new template is a new pattern.
 */
import { KIT_PALETTE, TEMPLATES, type Ctx, type EventType, type MatchEvent } from '../src/synth/index.js';

export interface ParsedLine {
  type: EventType;
  team: string;
}

const TEAM = '\u0001T';
const OPP = '\u0001O';
const SCORE = '\u0001S';
const MINUTE = '\u0001M';
const DETAIL = '\u0001D';
const SHIRT = 90001;
const OTHER = 90002;

const teamNames = [...KIT_PALETTE.map((k) => k.name)].sort((a, b) => b.length - a.length);
const TEAM_RE = `(?<team>${teamNames.join('|')})`;
/** Any kit colour as a team name, longest first ("Sky Blue" before "Blue"); not captured. */
export const ANY_TEAM_RE = `(?:${teamNames.join('|')})`;
/** A team name as the world spells it, from a case-insensitive match. */
export const teamName = (text: string): string | undefined => teamNames.find((n) => n.toLowerCase() === text.toLowerCase());

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every rendering of a template over the details and outcomes the world uses. */
function variants(render: (c: Ctx) => string): string[] {
  const details = [undefined, 'short', 'long', 'cross', 'throw', 'past', 'header', 'long range', 'blocked shot', DETAIL];
  const outcomes = [undefined, 'out', 'won', 'parried', 'complete'];
  const out = new Set<string>();
  for (const detail of details) {
    for (const outcome of outcomes) {
      const e = { detail, outcome } as unknown as MatchEvent;
      out.add(render({ team: TEAM, opp: OPP, n: SHIRT, o: OTHER, e, score: SCORE, minute: MINUTE }));
    }
  }
  return [...out];
}

function toPattern(text: string): RegExp {
  let re = escape(text);
  let teamSeen = false;
  re = re.replace(new RegExp(escape(TEAM), 'g'), () => {
    // The first mention of the acting team is captured; later ones must name a team too.
    if (teamSeen) return ANY_TEAM_RE;
    teamSeen = true;
    return TEAM_RE;
  });
  re = re
    .replace(new RegExp(escape(OPP), 'g'), ANY_TEAM_RE)
    .replace(new RegExp(`${SHIRT}|${OTHER}`, 'g'), '\\d+')
    .replace(new RegExp(escape(SCORE), 'g'), '.+?')
    .replace(new RegExp(escape(MINUTE), 'g'), '\\d+(?:st|nd|rd|th)')
    .replace(new RegExp(escape(DETAIL), 'g'), '.+?');
  // Lines may carry a tail such as " Red lead 1-0 in the 3rd minute."
  return new RegExp(`^\\s*${re}(?:\\s.*)?$`, 'i');
}

const PATTERNS: Array<{ type: EventType; re: RegExp }> = Object.entries(TEMPLATES).flatMap(([type, templates]) =>
  templates.flatMap((t) => variants((c) => t(c)).map((text) => ({ type: type as EventType, re: toPattern(text) }))),
);

/** The event a line describes, or undefined for silence and lines that match no phrasing. */
export function parseLine(text: string): ParsedLine | undefined {
  const line = text.trim();
  if (line === '' || line === '...') return undefined;
  for (const { type, re } of PATTERNS) {
    const m = re.exec(line);
    if (m?.groups?.team) {
      const team = teamNames.find((n) => n.toLowerCase() === m.groups!.team.toLowerCase())!;
      return { type, team };
    }
  }
  return undefined;
}

/** "Red lead 2-1" / "level at 1-1" / "still goalless": the score a line claims, as [leaderOrUndefined, high, low]. */
export function parseScoreClaim(text: string): { leader?: string; high: number; low: number } | undefined {
  const lead = new RegExp(`${TEAM_RE} lead (\\d+)-(\\d+)`, 'i').exec(text);
  if (lead) {
    const team = teamNames.find((n) => n.toLowerCase() === lead.groups!.team.toLowerCase())!;
    return { leader: team, high: Number(lead[2]), low: Number(lead[3]) };
  }
  const level = /level at (\d+)-(\d+)/i.exec(text);
  if (level) return { high: Number(level[1]), low: Number(level[2]) };
  if (/still goalless/i.test(text)) return { high: 0, low: 0 };
  return undefined;
}
