/** Small wording helpers shared by commentary and captions. */

export function ordinal(n: number): string {
  const tens = n % 100;
  const unit = n % 10;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${unit === 1 ? 'st' : unit === 2 ? 'nd' : unit === 3 ? 'rd' : 'th'}`;
}

/** "Red lead 2-1", "Blue lead 1-0", "it's 1-1", "still goalless". */
export function scoreLine(names: readonly [string, string], score: readonly [number, number]): string {
  const [a, b] = score;
  if (a === b) return a === 0 ? 'still goalless' : `level at ${a}-${b}`;
  return a > b ? `${names[0]} lead ${a}-${b}` : `${names[1]} lead ${b}-${a}`;
}

export function halfName(half: number): string {
  return half === 0 ? 'first half' : 'second half';
}
