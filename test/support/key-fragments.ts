import crypto from 'node:crypto';
import type { TestApp } from './test-app';

/**
 * Every 5-character piece of `key` that occurs in `text`. Five characters is less than any prefix
 * plus a useful fragment, and more than the last four a masked key may show.
 *
 * `ignore` names words that the test itself put into the key (the fake providers' scenario markers,
 * such as QUOTA or ERROR500): a piece lying wholly inside one of them is ours, not the key's, and the
 * API legitimately says such words (QUOTA_EXCEEDED, PROVIDER_ERROR). Pieces that reach from a marker
 * into the key's own characters are still reported.
 */
export function keyFragmentsIn(text: string, key: string, ignore: readonly string[] = []): string[] {
  const found = new Set<string>();
  for (let i = 0; i + 5 <= key.length; i++) {
    const piece = key.slice(i, i + 5);
    if (ignore.some((word) => word.includes(piece))) continue;
    if (text.includes(piece)) found.add(piece);
  }
  return [...found];
}

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Random letters: a canary's body, unlikely to meet any word the service says. */
export const randomText = (length: number) =>
  Array.from(crypto.randomBytes(length), (byte) => ALPHABET[byte % ALPHABET.length]).join('');

const SEALED_COLUMNS = new Set(['ciphertext', 'iv', 'auth_tag', 'wrapped_key']);

/** Every column of every table but the sealed key material, as text: where no key may appear. */
export async function databaseText(app: TestApp): Promise<string> {
  const parts: string[] = [];
  for (const entity of app.dataSource.entityMetadatas) {
    for (const row of await app.dataSource.query<Record<string, unknown>[]>(
      `SELECT * FROM ${entity.tableName}`,
    )) {
      for (const [column, value] of Object.entries(row))
        if (!SEALED_COLUMNS.has(column)) parts.push(`${column}=${String(value)}`);
    }
  }
  return parts.join('\n');
}
