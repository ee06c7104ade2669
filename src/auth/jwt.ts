import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRemoteJWKSet, jwtVerify, JWTPayload, JWTVerifyOptions, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { Config } from '../config';
import { ensurePrivateDir } from '../data-dir';

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
  ensurePrivateDir(config.dataDir);
  try {
    fs.writeFileSync(file, crypto.randomBytes(48).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return fs.readFileSync(file, 'utf8').trim();
}

/** How far ahead of our clock a token's `iat` may be: clocks drift, tokens are not issued in the future. */
const IAT_SKEW_SECONDS = 60;

function checkIssuedAt(payload: JWTPayload): void {
  if (payload.iat !== undefined && payload.iat > Date.now() / 1000 + IAT_SKEW_SECONDS) {
    throw new InvalidTokenError('token issued in the future');
  }
}

const audiencesOf = (payload: JWTPayload) =>
  Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud];

/** The claims of a user token; a service token (its `aud` is INTERNAL_AUDIENCE) is not one. */
function userClaimsFrom(payload: JWTPayload, internalAudience: string): TokenClaims {
  if (audiencesOf(payload).includes(internalAudience))
    throw new InvalidTokenError('a service token is not a user token');
  const accountId = payload.account_id;
  if (typeof payload.sub !== 'string' || !payload.sub || typeof accountId !== 'string' || !accountId) {
    throw new InvalidTokenError('token lacks sub or account_id');
  }
  return { userId: payload.sub, accountId };
}

/** A platform service calling the internal credential API, and what it may do there. */
export interface ServiceClaims {
  service: string;
  scopes: ReadonlySet<string>;
}

export const SERVICE_SCOPES = ['credentials:resolve', 'credentials:report'] as const;

function serviceClaimsFrom(payload: JWTPayload): ServiceClaims {
  if (typeof payload.sub !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(payload.sub)) {
    throw new InvalidTokenError('service token lacks a service name in sub');
  }
  if (typeof payload.scope !== 'string') throw new InvalidTokenError('service token lacks scope');
  return { service: payload.sub, scopes: new Set(payload.scope.split(' ').filter(Boolean)) };
}

type SignatureCheck = (token: string, options: JWTVerifyOptions) => Promise<JWTPayload>;

/** Where signatures are checked: the JWKS (one cache for user and service tokens alike) or the secret. */
function signatureCheck(config: Config): SignatureCheck {
  if (config.auth.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(config.auth.jwksUrl), { cacheMaxAge: JWKS_CACHE_MS });
    return async (token, options) =>
      (await jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'ES256'] })).payload;
  }
  // A KeyObject made once: handed raw bytes, jose would import the key again on every request.
  const key = crypto.createSecretKey(Buffer.from(resolveJwtSecret(config)!, 'utf8'));
  return async (token, options) =>
    (await jwtVerify(token, key, { ...options, algorithms: ['HS256'] })).payload;
}

/**
 * A signing key the identity provider withdraws from its JWKS is trusted for at most the two caches
 * together: the JWKS as last fetched (JWKS_CACHE_MS) plus a token verified with it just before the
 * refetch (VERIFIED_TOKEN_TTL_MS), five minutes in all. Both run on the wall clock.
 */
export const JWKS_CACHE_MS = 2 * 60_000;
const VERIFIED_TOKEN_TTL_MS = 3 * 60_000;
const VERIFIED_TOKENS_KEPT = 10_000;

/**
 * A client sends the same token on every request, and checking its signature is a good share of a
 * signed-in request's work, so a token that passed is remembered (byte for byte) for at most three
 * minutes, and never past its `exp` or its AUTH_MAX_TOKEN_AGE. Failures are never remembered.
 */
function cachedVerifier<Claims>(
  config: Config,
  verify: (token: string) => Promise<JWTPayload>,
  claimsOf: (payload: JWTPayload) => Claims,
): (token: string) => Promise<Claims> {
  const maxAgeMs =
    config.auth.maxTokenAgeSeconds === undefined ? Infinity : config.auth.maxTokenAgeSeconds * 1000;
  const verified = new LRUCache<string, { claims: Claims }>({
    max: VERIFIED_TOKENS_KEPT,
    perf: { now: () => Date.now() },
  });
  return async (token) => {
    const known = verified.get(token);
    if (known) return known.claims;
    let payload: JWTPayload;
    try {
      payload = await verify(token);
    } catch (error) {
      throw new InvalidTokenError((error as Error).message);
    }
    checkIssuedAt(payload);
    const claims = claimsOf(payload);
    const until = Math.min(payload.exp! * 1000, (payload.iat ?? 0) * 1000 + maxAgeMs);
    const ttl = Math.min(until - Date.now(), VERIFIED_TOKEN_TTL_MS);
    if (ttl > 0) verified.set(token, { claims }, { ttl });
    return claims;
  };
}

export type ServiceTokenVerifier = (token: string) => Promise<ServiceClaims>;

/**
 * The verifiers of the two kinds of token, on one signature check (secret or JWKS) and issuer. User
 * tokens: AUTH_AUDIENCE when set, and never INTERNAL_AUDIENCE. Service tokens: `aud` INTERNAL_AUDIENCE,
 * `sub` the service, `scope` what it may do. `exp` is required of both.
 */
export function createTokenVerifiers(config: Config): { user: TokenVerifier; service: ServiceTokenVerifier } {
  const check = signatureCheck(config);
  // AUTH_MAX_TOKEN_AGE: refuses tokens issued longer ago (and tokens without iat), whatever their exp.
  const common = {
    issuer: config.auth.issuer,
    requiredClaims: ['exp'],
    maxTokenAge: config.auth.maxTokenAgeSeconds,
  };
  return {
    user: cachedVerifier(
      config,
      (token) => check(token, { ...common, audience: config.auth.audience }),
      (payload) => userClaimsFrom(payload, config.internalAudience),
    ),
    service: cachedVerifier(
      config,
      (token) => check(token, { ...common, audience: config.internalAudience }),
      serviceClaimsFrom,
    ),
  };
}

/** Signs a development token with the configured HS256 secret. */
export async function signToken(config: Config, claims: TokenClaims, ttl = '1h'): Promise<string> {
  const secret = resolveJwtSecret(config);
  if (!secret)
    throw new Error('AUTH_JWKS_URL is set: tokens come from that identity provider, not from this service');
  let jwt = new SignJWT({ account_id: claims.accountId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
  if (config.auth.audience) jwt = jwt.setAudience(config.auth.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}

/** Signs a development service token (outside production) for the internal credential API. */
export async function signServiceToken(
  config: Config,
  service: string,
  scopes: readonly string[],
  ttl = '1h',
): Promise<string> {
  const secret = resolveJwtSecret(config);
  if (!secret)
    throw new Error('AUTH_JWKS_URL is set: tokens come from that identity provider, not from this service');
  let jwt = new SignJWT({ scope: scopes.join(' ') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(service)
    .setAudience(config.internalAudience)
    .setIssuedAt()
    .setExpirationTime(ttl);
  if (config.auth.issuer) jwt = jwt.setIssuer(config.auth.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
