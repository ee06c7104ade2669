import type { EntityManager } from 'typeorm';
import { dialectOf } from '../db/dialect';
import { Plan } from './plan.enum';

// The account row as a lock: a change that must see the whole account as it was (the route guard,
// settings updates) holds it, so two such changes of one account run one after the other.

/** The account's plan, its row locked for `manager`'s transaction; undefined when there is no account. */
export async function lockAccount(manager: EntityManager, accountId: string): Promise<Plan | undefined> {
  // SQLite runs one write transaction at a time (db/transaction.ts) and has no row locks.
  const lock = dialectOf(manager) === 'sqlite' ? '' : ' FOR UPDATE';
  const rows = await manager.query<{ plan: Plan }[]>(`SELECT plan FROM accounts WHERE id = ?${lock}`, [
    accountId,
  ]);
  return rows[0]?.plan;
}
