import { DataSource } from 'typeorm';
import { Plan } from '../accounts/plan.enum';
import { Role } from '../accounts/role.enum';
import { AccountPart } from '../accounts/account-part';
import { batchedReader, placeholders, rowsByKey } from '../db/batched-read';
import { selectPrepared } from '../db/prepared';

// The one query of an authenticated request: the user's role in the account, the account's plan, and
// what other capabilities need of that account for the request (the composition root hands in their
// part: the account's stored keys, without key material), in a single statement. The contract wants
// role and plan read on every request, and the screens behind it (key list, AI settings) show the keys,
// so one round trip serves both. Requests that ask in the same turn of the event loop share that round
// trip: their lookups go out together as one statement, sent after every one of those requests arrived,
// so each still reads the database as it is then (a demotion counts from the next request).

export interface MemberRow<Account> {
  role: Role;
  plan: Plan;
  account: Account;
}

/** Reads one membership (a user in an account); undefined when the user is not a member. */
export type MembershipReader<Account> = (
  userId: string,
  accountId: string,
) => Promise<MemberRow<Account> | undefined>;

/** Lookups read in one statement at most; each batch size is one prepared statement per connection. */
const MAX_BATCH = 16;

const lookupKey = (userId: unknown, accountId: unknown) => JSON.stringify([userId, accountId]);

/** The membership of a user in an account, with the part, or undefined when they are not a member. */
export function createMembershipReader<Account>(
  dataSource: DataSource,
  part: AccountPart<Account>,
): MembershipReader<Account> {
  const statements: string[] = [];
  const statement = (size: number) =>
    (statements[size] ??= [
      'SELECT m.user_id AS member_user_id, m.account_id AS member_account_id, m.role AS role, a.plan AS plan,',
      part.columns.join(', '),
      'FROM memberships m INNER JOIN accounts a ON a.id = m.account_id',
      part.join,
      `WHERE ${placeholders(size, '(m.user_id = ? AND m.account_id = ?)', ' OR ')}`,
    ].join(' '));
  type Lookup = { userId: string; accountId: string };
  const read = batchedReader(
    MAX_BATCH,
    async (lookups: readonly Lookup[]): Promise<(MemberRow<Account> | undefined)[]> => {
      const rows = await selectPrepared(
        dataSource,
        statement(lookups.length),
        lookups.flatMap((lookup) => [lookup.userId, lookup.accountId]),
      );
      const found = rowsByKey(rows, (row) => lookupKey(row.member_user_id, row.member_account_id));
      return lookups.map((lookup) => {
        const group = found.get(lookupKey(lookup.userId, lookup.accountId));
        return (
          group && { role: group[0].role as Role, plan: group[0].plan as Plan, account: part.read(group) }
        );
      });
    },
  );
  return (userId, accountId) => read({ userId, accountId });
}
