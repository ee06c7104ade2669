import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify, JWTPayload, SignJWT } from 'jose';
import { Config } from '../config';

// Bearer-token verification with jose. The token names the user and the account the request acts in;
// role and plan are never taken from it (they are read from the database on every request).

export interface TokenClaims {
  userId: string;
  accountId: string;
}

export type TokenVerifier = (token: string) => Promise<TokenClaims>;

export class InvalidTokenError extends Error {}

const DEV_SECRET_FILE = 'jwt-secret';

/**
 * The HS256 secret: AUTH_JWT_SECRET, or outside production a secret generated once into the data
 * folder (mode 0600) so that development tokens survive restarts. Undefined when only a JWKS is set.
 */
export function resolveJwtSecret(config: Config): string | undefined {
  if (config.auth.jwtSecret) return config.auth.jwtSecret;
  if (config.auth.jwksUrl) return undefined;
  if (config.production) throw new Error('AUTH_JWT_SECRET: required in production (or set AUTH_JWKS_URL)');
  const file = path.join(config.dataDir, DEV_SECRET_FILE);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return fs.readFileSync(file, 'utf8').trim();
}

function claimsFrom(payload: JWTPayload): TokenClaims {
  const accountId = payload.account_id;
  if (typeof payload.sub !== 'string' || !payload.sub || typeof accountId !== 'string' || !accountId) {
    throw new InvalidTokenError('token lacks sub or account_id');
  }
  return { userId: payload.sub, accountId };
}

export function createTokenVerifier(config: Config): TokenVerifier {
  const options = {
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    requiredClaims: ['exp'],
  };
  if (config.auth.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(config.auth.jwksUrl));
    return async (token) => {
      try {
        return claimsFrom((await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload);
      } catch (error) {
        throw new InvalidTokenError((error as Error).message);
      }
    };
  }
  // A KeyObject made once: handed raw bytes, jose would import the key again on every request.
  const key = crypto.createSecretKey(Buffer.from(resolveJwtSecret(config)!, 'utf8'));
  return async (token) => {
    try {
      return claimsFrom((await jwtVerify(token, key, { ...options, algorithms: ['HS256'] })).payload);
    } catch (error) {
      throw new InvalidTokenError((error as Error).message);
    }
  };
}

/** Signs a development token with the configured HS256 secret. */
export async function signToken(config: Config, claims: TokenClaims, ttl = '1h'): Promise<string> {
  const secret = resolveJwtSecret(config);
  if (!secret) throw new Error('AUTH_JWKS_URL is set: tokens come from that identity provider, not from this service');
  let jwt = new SignJWT({ account_id: claims.accountId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
  if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
