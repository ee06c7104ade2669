import { DataSource } from 'typeorm';
import { Plan, Role } from '../accounts/plan.enum';
import { PublicProviderKey } from '../provider-keys/provider-key.entity';
import { InvalidTokenError, TokenClaims, TokenVerifier } from './jwt';
import { readMembership } from './membership.query';

// Who is asking. The token says who the user is and which account they act in; their role there and
// the account's plan are read from the database on every request, so a demotion takes effect at once.

export interface Viewer {
  userId: string;
  accountId: string;
  role: Role;
  plan: Plan;
  /**
   * The account's keys, without key material, read in the same statement as role and plan: what the
   * queries of this request show. Mutations read (and lock) their own rows instead.
   */
  keys: readonly PublicProviderKey[];
}

export type Identity =
  | { status: 'anonymous' }
  | { status: 'invalid-token' }
  | { status: 'not-a-member'; userId: string; accountId: string }
  | { status: 'member'; viewer: Viewer };

export type TokenVerdict = { status: 'anonymous' } | { status: 'invalid-token' } | { status: 'verified'; claims: TokenClaims };

/**
 * Loads a request's identity lazily, in two steps, each at most once: the token (no I/O with a
 * shared secret, and none for a token already verified) and then the membership (one database query). A request the permission rules turn
 * away for its token, or a document rejected before execution, never reaches the database.
 */
export class IdentityLoader {
  private token?: Promise<TokenVerdict>;
  private member?: Promise<Identity>;

  constructor(
    private readonly authorization: string | undefined,
    private readonly verify: TokenVerifier,
    private readonly dataSource: DataSource,
  ) {}

  verifiedToken(): Promise<TokenVerdict> {
    return (this.token ??= this.verifyToken());
  }

  identity(): Promise<Identity> {
    return (this.member ??= this.verifiedToken().then((verdict) => (verdict.status === 'verified' ? this.lookUp(verdict.claims) : verdict)));
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

  private async lookUp(claims: TokenClaims): Promise<Identity> {
    const membership = await readMembership(this.dataSource, claims.userId, claims.accountId);
    return membership ? { status: 'member', viewer: { ...claims, ...membership } } : { status: 'not-a-member', ...claims };
  }
}
