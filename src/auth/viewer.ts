import { Plan } from '../accounts/plan.enum';
import { Role } from '../accounts/role.enum';
import { RequestContext } from '../graphql/context';
import { InvalidTokenError, TokenClaims, TokenVerifier } from './jwt';
import { MembershipReader } from './membership.query';

// Who is asking. The token says who the user is and which account they act in; their role there and
// the account's plan are read from the database on every request, so a demotion takes effect at once.

/**
 * A member of the account the request acts in. `account` is what other capabilities read of that account
 * in the same statement (the stored keys, for one), typed by them; auth only carries it.
 */
export interface Viewer<Account = unknown> {
  userId: string;
  accountId: string;
  role: Role;
  plan: Plan;
  account: Account;
}

export type Identity<Account = unknown> =
  | { status: 'anonymous' }
  | { status: 'invalid-token' }
  | { status: 'not-a-member'; userId: string; accountId: string }
  | { status: 'member'; viewer: Viewer<Account> };

export type TokenVerdict =
  { status: 'anonymous' } | { status: 'invalid-token' } | { status: 'verified'; claims: TokenClaims };

/** The part of a request's context that auth fills: the rules set `viewer` once the membership is read. */
export interface AuthContext<Account = unknown> extends RequestContext {
  auth: IdentityLoader<Account>;
  viewer?: Viewer<Account>;
}

/** The viewer of a request that passed the permission rules; resolvers behind `member` or `admin` may rely on it. */
export function viewerOf<Account>(context: AuthContext<Account>): Viewer<Account> {
  if (!context.viewer) throw new Error('viewerOf called on a request without a member');
  return context.viewer;
}

/**
 * Loads a request's identity lazily, in two steps, each at most once: the token (no I/O with a
 * shared secret, and none for a token already verified) and then the membership (one database query). A
 * request the permission rules turn away for its token, or a document rejected before execution, never
 * reaches the database.
 */
export class IdentityLoader<Account = unknown> {
  private token?: Promise<TokenVerdict>;
  private member?: Promise<Identity<Account>>;

  constructor(
    private readonly authorization: string | undefined,
    private readonly verify: TokenVerifier,
    private readonly readMembership: MembershipReader<Account>,
  ) {}

  verifiedToken(): Promise<TokenVerdict> {
    return (this.token ??= this.verifyToken());
  }

  identity(): Promise<Identity<Account>> {
    return (this.member ??= this.verifiedToken().then((verdict) =>
      verdict.status === 'verified' ? this.lookUp(verdict.claims) : verdict,
    ));
  }

  private async verifyToken(): Promise<TokenVerdict> {
    if (!this.authorization) return { status: 'anonymous' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(this.authorization);
    if (!match) return { status: 'invalid-token' };
    try {
      return { status: 'verified', claims: await this.verify(match[1]) };
    } catch (error) {
      if (error instanceof InvalidTokenError) return { status: 'invalid-token' };
      throw error;
    }
  }

  private async lookUp(claims: TokenClaims): Promise<Identity<Account>> {
    const membership = await this.readMembership(claims.userId, claims.accountId);
    return membership
      ? { status: 'member', viewer: { ...claims, ...membership } }
      : { status: 'not-a-member', ...claims };
  }
}
