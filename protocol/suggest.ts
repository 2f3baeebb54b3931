/**
 * "Did you mean ...?" for a mistyped command word: the one command within one edit of the word
 * (a letter added, dropped, changed, or two neighbours swapped, as `REDA` for `READ`), letters'
 * case aside (`write` is WRITE). Pure, for the job language and the client's commands alike.
 */

/** Edits between two words: Levenshtein's with a swap of neighbours as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0]!.push(j);
        continue;
      }
      const same = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + same);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]!.push(best);
    }
  }
  return rows[a.length]![b.length]!;
}

/** The command the word was probably meant to be, or null when none is that close. */
export function closestCommand(word: string, commands: readonly string[]): string | null {
  const upper = word.toUpperCase();
  return commands.find((command) => command === upper) ?? commands.find((command) => editDistance(upper, command) === 1) ?? null;
}

/** ` (did you mean WRITE?)`, or '' when no command is close. */
export function didYouMean(word: string, commands: readonly string[]): string {
  const close = closestCommand(word, commands);
  return close === null ? '' : ` (did you mean ${close}?)`;
}
