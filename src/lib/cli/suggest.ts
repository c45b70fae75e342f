/**
 * "Did you mean": the nearest of the known words to what was typed (commands, flags), by edit
 * distance with a swap of two neighbours counting as one edit (`strat` is one from `start`).
 */

/** Optimal string alignment distance (Damerau-Levenshtein without repeated edits of a substring). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) rows.push([i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * The known word nearest to `typed`, when it is near enough to be what was meant: at most a third
 * of the word's letters (at least one, at most three) differ, or one is the other's start.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  let best: { word: string; distance: number } | undefined;
  for (const word of known) {
    const distance = word.startsWith(typed) || typed.startsWith(word) ? 1 : editDistance(typed, word);
    if (!best || distance < best.distance) best = { word, distance };
  }
  if (!best) return undefined;
  const allowed = Math.min(3, Math.max(1, Math.floor(Math.max(typed.length, best.word.length) / 3)));
  return best.distance <= allowed ? best.word : undefined;
}
