import DataLoader from 'dataloader';
import { DataSource } from 'typeorm';
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

/** The batch sizes the read is prepared for: a batch is padded up to the next, so there are few statements. */
const BATCH_SIZES = [1, 2, 4, 8, 16, 32] as const;

/**
 * One account's plan and parts by id; undefined when there is no account with exactly that id. Every
 * call reads the database, nothing is cached: the reads asked for while the event loop handles the
 * same round of I/O go out together, as one prepared statement (`WHERE a.id IN (…)`), so that a busy
 * resolver costs both sides one round trip per round rather than per call.
 */
export function createAccountReader<Account>(dataSource: DataSource, part: AccountPart<Account>) {
  const statements = new Map<number, string>(
    BATCH_SIZES.map((size) => [
      size,
      `SELECT a.id AS a_id, a.plan AS plan, ${part.columns.join(', ')} FROM accounts a ${part.join} WHERE a.id IN (${Array(size).fill('?').join(', ')})`,
    ]),
  );
  type Read = { plan: Plan; account: Account } | undefined;
  const loader = new DataLoader<string, Read>(
    async (ids) => {
      const size = BATCH_SIZES.find((candidate) => candidate >= ids.length)!;
      const padded = [...ids, ...Array<string>(size - ids.length).fill(ids[0])];
      const rows = await selectPrepared(dataSource, statements.get(size)!, padded);
      const byAccount = new Map<unknown, Row[]>();
      for (const row of rows) {
        const own = byAccount.get(row.a_id);
        if (own) own.push(row);
        else byAccount.set(row.a_id, [row]);
      }
      // Exactly the id asked for: MySQL's collation would also match another case, SQLite's would not.
      return ids.map((id): Read => {
        const own = byAccount.get(id);
        return own && { plan: own[0].plan as Plan, account: part.read(own) };
      });
    },
    {
      cache: false, // every call reads the database: a rotation or removal shows on the next one
      maxBatchSize: BATCH_SIZES[BATCH_SIZES.length - 1],
      // After the poll phase, so that every request read off the sockets in this round joins the batch.
      batchScheduleFn: (callback) => setImmediate(callback),
    },
  );
  return (accountId: string): Promise<Read> => loader.load(accountId);
}
