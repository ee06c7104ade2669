import DataLoader from 'dataloader';
import type { Row } from './prepared';

// The hot reads of every request (a GraphQL request's membership, a resolve's account) share round trips:
// the reads asked for while the event loop handles one round of I/O go out together, as one statement
// sent after every one of those requests arrived. Nothing is cached: each still reads the database as it
// is then (a rotation, removal or demotion counts from the next request).

/**
 * A reader of one key at a time that reads up to `maxBatch` keys per call of `readBatch`, which answers
 * in the keys' order.
 */
export function batchedReader<K, V>(
  maxBatch: number,
  readBatch: (keys: readonly K[]) => Promise<V[]>,
): (key: K) => Promise<V> {
  const loader = new DataLoader<K, V, K>(readBatch, {
    cache: false,
    maxBatchSize: maxBatch,
    // After the poll phase, so that every request read off the sockets in this round joins the batch.
    batchScheduleFn: (callback) => setImmediate(callback),
  });
  return (key) => loader.load(key);
}

/**
 * The rows of each key, by exact value: MySQL's collation would also match `ACCT_ACME` to `acct_acme`;
 * such a near miss finds no row here, as on SQLite.
 */
export function rowsByKey(rows: readonly Row[], keyOf: (row: Row) => string): Map<string, Row[]> {
  const byKey = new Map<string, Row[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const own = byKey.get(key);
    if (own) own.push(row);
    else byKey.set(key, [row]);
  }
  return byKey;
}

/** `size` copies of `one` joined by `separator`: the placeholders of an `IN (…)`, or conditions joined by OR. */
export const placeholders = (size: number, one = '?', separator = ', '): string =>
  Array.from({ length: size }, () => one).join(separator);
