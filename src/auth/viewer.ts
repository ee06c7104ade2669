import { DataSource } from 'typeorm';
import { Membership } from '../accounts/membership.entity';
import { Plan, Role } from '../accounts/plan.enum';
import { InvalidTokenError, TokenVerifier } from './jwt';

// Who is asking. The token says who the user is and which account they act in; their role there and
// the account's plan are read from the database on every request, so a demotion takes effect at once.

export interface Viewer {
  userId: string;
  accountId: string;
  role: Role;
  plan: Plan;
}

export type Identity =
  | { status: 'anonymous' }
  | { status: 'invalid-token' }
  | { status: 'not-a-member'; userId: string; accountId: string }
  | { status: 'member'; viewer: Viewer };

export async function identify(authorization: string | undefined, verify: TokenVerifier, dataSource: DataSource): Promise<Identity> {
  if (!authorization) return { status: 'anonymous' };
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return { status: 'invalid-token' };
  let claims;
  try {
    claims = await verify(match[1]);
  } catch (error) {
    if (error instanceof InvalidTokenError) return { status: 'invalid-token' };
    throw error;
  }
  const row = await dataSource
    .getRepository(Membership)
    .createQueryBuilder('m')
    .innerJoin('m.account', 'a')
    .select(['m.role AS role', 'a.plan AS plan'])
    .where('m.userId = :userId AND m.accountId = :accountId', claims)
    .getRawOne<{ role: Role; plan: Plan }>();
  if (!row) return { status: 'not-a-member', ...claims };
  return { status: 'member', viewer: { ...claims, role: row.role, plan: row.plan } };
}
