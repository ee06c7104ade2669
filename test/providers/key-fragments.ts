/**
 * Every 5-character piece of `key` that occurs in `text`. Five characters is less than any prefix
 * plus a useful fragment, and more than the last four a masked key may show.
 */
export function keyFragmentsIn(text: string, key: string): string[] {
  const found = new Set<string>();
  for (let i = 0; i + 5 <= key.length; i++) {
    const piece = key.slice(i, i + 5);
    if (text.includes(piece)) found.add(piece);
  }
  return [...found];
}
