import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { factsFromEvents, frames, MatchTimeline, SCOREBOARD_TIMES, SILENCE, simulateTruth, WORLD_HZ, type MatchTruth } from '../../src/synth/index.js';

const sha = (x: string | Uint8Array): string => createHash('sha256').update(x).digest('hex');
/** What world 1 wrote before issue 22 (simulateTruth gained `facts` then, a new field left out here). */
const worldOneTruth = (t: MatchTruth): string => JSON.stringify({ events: t.events, transcript: t.transcript, captions: t.captions });

describe('world version 1 (the default) is unchanged', () => {
  // Hashes computed on the commit before world 2 existed (8bc83a4), so every earlier result reproduces.
  it('gives byte-identical truth to before', () => {
    expect(sha(worldOneTruth(simulateTruth(6, 600)))).toBe('1897975099b0a0b7f15d707e88f1a2ef3f8b8efcc807acd9e1a35c5166d3d1a2');
    expect(sha(worldOneTruth(simulateTruth(6, 600, { world: 1 })))).toBe('1897975099b0a0b7f15d707e88f1a2ef3f8b8efcc807acd9e1a35c5166d3d1a2');
    expect(sha(worldOneTruth(simulateTruth(6, 600, { startScore: [3, 2], halfSeconds: 120 })))).toBe('13c7267a2361414c9838d188e75fbe22c0e580ba9c37dc0634d048f62eae207f');
  });

  it('gives byte-identical frames to before', () => {
    const h = createHash('sha256');
    for (const f of frames(6, { seconds: 240, fps: 1, widthPx: 160, heightPx: 90 })) h.update(f.rgb);
    expect(h.digest('hex')).toBe('24ca9ec01875d7e373cbf51126134b0bdf3292f255e9cc1819eab27242ef9d61');
  });
});

describe('world version 2', () => {
  it('plays the same match; only the scoreboard and the wording of voiced lines change', () => {
    const one = simulateTruth(6, 600);
    const two = simulateTruth(6, 600, { world: 2 });
    expect(JSON.stringify(two.events)).toBe(JSON.stringify(one.events));
    expect(JSON.stringify(two.captions)).toBe(JSON.stringify(one.captions));
    two.transcript.content.forEach(([, , text], s) => {
      const before = one.transcript.content[s][2];
      if (before === SILENCE) expect(text).toBe(SILENCE);
      else expect(text.startsWith(before), `second ${s}`).toBe(true);
    });
    expect(two.transcript.content.filter(([, , t], s) => t !== one.transcript.content[s][2]).length).toBeGreaterThan(20);
  });

  it('shows the scoreboard at kick-off of each half, after a goal and a few seconds every few minutes only', () => {
    const seconds = 400;
    const shown: boolean[] = [];
    const goals: number[] = [];
    const timeline = new MatchTimeline(6, { world: 2, halfSeconds: 150 }, { onEvent: (e) => e.type === 'goal' && goals.push(e.t) });
    const clock: number[] = [];
    const periods: number[] = [];
    for (let tick = 1; tick <= seconds * WORLD_HZ; tick++) {
      timeline.advanceToTick(tick);
      shown.push(timeline.scoreboardVisible);
      clock.push(timeline.match.clockSec);
      periods.push(timeline.match.period);
    }
    const t = SCOREBOARD_TIMES;
    const at = (sec: number): boolean => shown[Math.round(sec * WORLD_HZ) - 1];
    // Kick-off of the match (and of the video).
    expect(at(1)).toBe(true);
    expect(at(t.halfStartSec - 1)).toBe(true);
    // Every tick: shown exactly when one of the three rules holds.
    const halfStarts = [0];
    for (let i = 1; i < shown.length; i++) if (periods[i] !== periods[i - 1] || clock[i] < clock[i - 1]) halfStarts.push(i + 1);
    expect(halfStarts.length).toBeGreaterThanOrEqual(3); // second half, then a new match
    expect(goals.length).toBeGreaterThan(0);
    for (let i = 0; i < shown.length; i++) {
      const tick = i + 1;
      // An event at time t happens in the step from tick t * WORLD_HZ to the next one.
      const afterGoal = goals.some((g) => tick - (Math.round(g * WORLD_HZ) + 1) >= 0 && tick - (Math.round(g * WORLD_HZ) + 1) < t.afterGoalSec * WORLD_HZ);
      const afterStart = halfStarts.some((h) => tick >= h && tick - h < t.halfStartSec * WORLD_HZ);
      const periodic = clock[i] % t.everySec < t.forSec;
      expect(shown[i], `tick ${tick}`).toBe(afterGoal || afterStart || periodic);
    }
    const share = shown.filter(Boolean).length / shown.length;
    expect(share).toBeGreaterThan(0.03);
    expect(share).toBeLessThan(0.5);
  });

  it('hides the overlay in the picture: frames differ from world 1 only in the top-left corner, and only when hidden', () => {
    const w = 160;
    const h = 90;
    const a = frames(6, { seconds: 40, fps: 1, widthPx: w, heightPx: h });
    const b = frames(6, { seconds: 40, fps: 1, widthPx: w, heightPx: h, world: 2 });
    let hiddenFrames = 0;
    for (let i = 0; i < 40; i++) {
      const fa = a.next().value!.rgb;
      const fb = b.next().value!.rgb;
      let maxX = -1;
      let maxY = -1;
      for (let p = 0; p < fa.length; p += 3) {
        if (fa[p] !== fb[p] || fa[p + 1] !== fb[p + 1] || fa[p + 2] !== fb[p + 2]) {
          maxX = Math.max(maxX, (p / 3) % w);
          maxY = Math.max(maxY, Math.floor(p / 3 / w));
        }
      }
      if (i < SCOREBOARD_TIMES.halfStartSec) expect(maxX, `frame ${i}: kick-off shows the board`).toBe(-1);
      if (maxX >= 0) {
        hiddenFrames++;
        expect(maxX).toBeLessThan(w * 0.7);
        expect(maxY).toBeLessThan(h * 0.2);
      }
    }
    expect(hiddenFrames).toBeGreaterThan(10);
  });

  it('carries per-second memory facts that the events confirm, and resets them for a new match', () => {
    const truth = simulateTruth(7, 400, { world: 2, halfSeconds: 150 });
    const teams: [string, string] = ['', ''];
    for (const e of truth.events) teams[e.teamIndex] ||= e.team;
    expect(truth.facts).toHaveLength(400);
    // The evaluation rebuilds the same facts from the events file (all but the scoreboard flag).
    const rebuilt = factsFromEvents(truth.events, teams, 400);
    expect(rebuilt.map((f) => ({ ...f, scoreboard: true }))).toEqual(truth.facts.map((f) => ({ ...f, scoreboard: true })));
    expect(truth.facts.some((f) => !f.scoreboard)).toBe(true);
    let matchStart = 0;
    for (const f of truth.facts) {
      const events = truth.events.filter((e) => e.second <= f.second);
      const last = events.at(-1);
      if (last?.type === 'full_time' && last.second < f.second) continue; // the break after full time
      if (events.some((e) => e.type === 'full_time' && e.second < f.second)) matchStart = [...events].reverse().find((e) => e.type === 'full_time')!.second + 1;
      const mine = events.filter((e) => e.second >= matchStart);
      expect(f.score).toEqual(last ? last.score : [0, 0]);
      expect(f.leader).toBe(f.score[0] === f.score[1] ? null : teams[f.score[0] > f.score[1] ? 0 : 1]);
      expect(f.shots).toEqual([0, 1].map((i) => mine.filter((e) => e.type === 'shot' && e.teamIndex === i).length));
      const goals = mine.filter((e) => e.type === 'goal');
      const g = goals.at(-1);
      expect(f.lastGoal?.player ?? null).toBe(g?.player ?? null);
      if (g) {
        expect(f.lastGoal!.tally).toBe(goals.filter((x) => x.teamIndex === g.teamIndex && x.player === g.player).length);
        expect(f.minutesSinceGoal).toBe(Math.floor((f.second - g.second) / 60));
        expect(f.opener).toEqual({ team: goals[0].team, player: goals[0].player, minute: goals[0].minute });
      } else expect(f.opener).toBeNull();
    }
    expect(matchStart).toBeGreaterThan(0); // a second match started and memory was reset
  });

  it('states the scorer tally after every goal line', () => {
    const truth = simulateTruth(6, 600, { world: 2 });
    const goalSeconds = new Set(truth.events.filter((e) => e.type === 'goal').map((e) => e.second));
    expect(goalSeconds.size).toBeGreaterThan(1);
    for (const s of goalSeconds) {
      const text = truth.transcript.content[s][2];
      expect(text).toMatch(new RegExp(`His ${truth.facts[s].lastGoal!.tally}(st|nd|rd|th) of the match\\.$`));
    }
  });
});
