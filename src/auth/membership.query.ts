import { DataSource } from 'typeorm';
import { Plan } from '../accounts/plan.enum';
import { Role } from '../accounts/role.enum';
import { AccountPart, Row } from '../accounts/account-part';
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

interface Lookup<Account> {
  userId: string;
  accountId: string;
  resolve(membership: MemberRow<Account> | undefined): void;
  reject(error: unknown): void;
}

/**
 * Rows go back to their lookup by exact ids. MySQL's collation would also match `USER_ALICE` to
 * `user_alice`; such a near miss finds no row here, as on SQLite, and the request is not a member.
 */
const lookupKey = (userId: unknown, accountId: unknown) => JSON.stringify([userId, accountId]);

class BatchedMembershipReader<Account> {
  private readonly statements: string[] = [];
  private queue: Lookup<Account>[] = [];

  constructor(
    private readonly dataSource: DataSource,
    private readonly part: AccountPart<Account>,
  ) {}

  read(userId: string, accountId: string): Promise<MemberRow<Account> | undefined> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ userId, accountId, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const queue = this.queue;
    this.queue = [];
    for (let start = 0; start < queue.length; start += MAX_BATCH)
      void this.run(queue.slice(start, start + MAX_BATCH));
  }

  private async run(batch: Lookup<Account>[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await selectPrepared(
        this.dataSource,
        this.statement(batch.length),
        batch.flatMap((lookup) => [lookup.userId, lookup.accountId]),
      );
    } catch (error) {
      for (const lookup of batch) lookup.reject(error);
      return;
    }
    const found = new Map<string, Row[]>();
    for (const row of rows) {
      const key = lookupKey(row.member_user_id, row.member_account_id);
      const group = found.get(key);
      if (group) group.push(row);
      else found.set(key, [row]);
    }
    for (const lookup of batch) {
      const group = found.get(lookupKey(lookup.userId, lookup.accountId));
      lookup.resolve(
        group && { role: group[0].role as Role, plan: group[0].plan as Plan, account: this.part.read(group) },
      );
    }
  }

  private statement(size: number): string {
    return (this.statements[size] ??= [
      'SELECT m.user_id AS member_user_id, m.account_id AS member_account_id, m.role AS role, a.plan AS plan,',
      this.part.columns.join(', '),
      'FROM memberships m INNER JOIN accounts a ON a.id = m.account_id',
      this.part.join,
      `WHERE ${Array.from({ length: size }, () => '(m.user_id = ? AND m.account_id = ?)').join(' OR ')}`,
    ].join(' '));
  }
}

/** The membership of a user in an account, with the part, or undefined when they are not a member. */
export function createMembershipReader<Account>(
  dataSource: DataSource,
  part: AccountPart<Account>,
): MembershipReader<Account> {
  const reader = new BatchedMembershipReader(dataSource, part);
  return (userId, accountId) => reader.read(userId, accountId);
}
