import { DataSource } from 'typeorm';
import { batchedReader, placeholders, rowsByKey } from '../db/batched-read';
import { Row, selectPrepared } from '../db/prepared';
import { Plan } from './plan.enum';

// What a capability reads of an account beside its plan, in the same statement as whoever reads the
// account: the membership read of every GraphQL request (auth) and the account read of every resolve
// (routing). Each capability contributes a part (a join and its columns); the composition root
// combines them, so that one round trip serves the request whatever it needs.

export type { Row };

export interface AccountPart<Account> {
  /** `LEFT JOIN …` onto the account, whose id is `a.id`. */
  readonly join: string;
  /** What it selects, each aliased so that it cannot collide with another part (`k.id AS k_id`). */
  readonly columns: readonly string[];
  /** The part, from the rows of one account: one per joined row, or one of nulls when none joined. */
  read(rows: readonly Row[]): Account;
}

/** Two parts in one statement: their rows multiply (keys × one settings row), and each reads its own. */
export function bothParts<A, B>(first: AccountPart<A>, second: AccountPart<B>): AccountPart<A & B> {
  return {
    join: `${first.join} ${second.join}`,
    columns: [...first.columns, ...second.columns],
    read: (rows) => ({ ...first.read(rows), ...second.read(rows) }),
  };
}

/** Accounts read in one statement at most; each batch size is one prepared statement per connection. */
const MAX_BATCH = 32;

/**
 * One account's plan and parts by id; undefined when there is no account with exactly that id. Reads
 * asked for together share a statement (db/batched-read.ts): a busy resolver costs both sides one
 * round trip per round of I/O rather than per call, and still reads the database on every call.
 */
export function createAccountReader<Account>(dataSource: DataSource, part: AccountPart<Account>) {
  const statements: string[] = [];
  const statement = (size: number) =>
    (statements[size] ??=
      `SELECT a.id AS a_id, a.plan AS plan, ${part.columns.join(', ')} FROM accounts a ${part.join} WHERE a.id IN (${placeholders(size)})`);
  type Read = { plan: Plan; account: Account } | undefined;
  return batchedReader(MAX_BATCH, async (ids: readonly string[]): Promise<Read[]> => {
    const rows = await selectPrepared(dataSource, statement(ids.length), [...ids]);
    const byAccount = rowsByKey(rows, (row) => row.a_id as string);
    return ids.map((id) => {
      const own = byAccount.get(id);
      return own && { plan: own[0].plan as Plan, account: part.read(own) };
    });
  });
}
