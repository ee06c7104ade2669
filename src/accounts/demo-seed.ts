import { DataSource } from 'typeorm';
import { Account } from './account.entity';
import { Membership } from './membership.entity';
import { Plan } from './plan.enum';
import { Role } from './role.enum';

// The contract's demo data, with fixed ids. Seeding is an upsert: running it again changes nothing.

export const DEMO_ACCOUNTS = [
  { id: 'acct_acme', name: 'Acme Corp', plan: Plan.GROWTH },
  { id: 'acct_globex', name: 'Globex', plan: Plan.GROWTH },
  { id: 'acct_initech', name: 'Initech', plan: Plan.STARTER },
];

export const DEMO_MEMBERSHIPS = [
  { userId: 'user_alice', accountId: 'acct_acme', role: Role.ADMIN },
  { userId: 'user_bob', accountId: 'acct_acme', role: Role.MEMBER },
  { userId: 'user_gina', accountId: 'acct_globex', role: Role.ADMIN },
  { userId: 'user_ivan', accountId: 'acct_initech', role: Role.ADMIN },
];

export async function seedDemo(dataSource: DataSource): Promise<void> {
  await dataSource.transaction(async (manager) => {
    await manager.getRepository(Account).upsert(DEMO_ACCOUNTS, ['id']);
    await manager.getRepository(Membership).upsert(DEMO_MEMBERSHIPS, ['userId', 'accountId']);
  });
}

export async function hasAccounts(dataSource: DataSource): Promise<boolean> {
  return (await dataSource.getRepository(Account).count()) > 0;
}
