import { Plan, planAllowsByok } from '../accounts/plan.enum';
import { Viewer } from '../auth/viewer';
import { AppError, ErrorCode } from '../graphql/errors';
import { displayNameOf } from '../providers/adapters';
import { AiProvider } from '../providers/ai-provider.enum';
import { ConnectionTestResult } from '../providers/connection-tester';

// The answers of the key operations that are not a key: each says what happened and what to do.

/** Add, test, rotate and the routing settings need a plan that allows BYOK; remove always works. */
export function requireByokPlan(viewer: Pick<Viewer, 'plan'>, toDo = 'add, test or rotate keys'): void {
  if (!planAllowsByok(viewer.plan)) throw planUpgradeRequired(toDo);
}

const planUpgradeRequired = (toDo: string) =>
  new AppError(
    ErrorCode.PLAN_UPGRADE_REQUIRED,
    `Bringing your own AI provider key needs the Growth plan or above. Upgrade the plan to ${toDo}.`,
    { requiredPlan: Plan.GROWTH },
  );

export const keyNotFound = (provider: AiProvider) =>
  new AppError(
    ErrorCode.PROVIDER_KEY_NOT_FOUND,
    `No key for ${displayNameOf(provider)} is stored for this account.`,
    { provider },
  );

export const keyExists = (provider: AiProvider) =>
  new AppError(
    ErrorCode.PROVIDER_KEY_EXISTS,
    `A key for ${displayNameOf(provider)} is already stored: rotate it to replace it.`,
    { provider },
  );

export const keyRejected = (result: ConnectionTestResult) =>
  new AppError(ErrorCode.KEY_REJECTED, `The key was not saved: ${result.message}`, {
    health: result.health,
    message: result.message,
    missingModels: result.missingModels,
  });

export const conflict = (currentVersion: number, expectedVersion: number | null | undefined) =>
  new AppError(
    ErrorCode.CONFLICT,
    `The key changed meanwhile: it is at version ${currentVersion}, not ${expectedVersion}. Reload and try again.`,
    {
      currentVersion,
    },
  );

export function rateLimited(perMinute: number, msBeforeNext: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError(
    ErrorCode.RATE_LIMITED,
    `Too many connection tests for this account: at most ${perMinute} a minute. Try again in ${retryAfterSeconds} s.`,
    { retryAfterSeconds },
  );
}

/**
 * The rate-limit store (the database's rate_limits table, or Redis) did not answer: the test is refused
 * rather than run without a limit. INTERNAL_SERVER_ERROR, the contract's code for a fault on our side,
 * with our own message (RATE_LIMITED would tell the client it had done too much).
 */
export const testsUnavailable = () =>
  new AppError(
    ErrorCode.INTERNAL_SERVER_ERROR,
    'Connection tests are unavailable for a moment: the store that counts them cannot be reached. Nothing was tested or saved; try again in a minute.',
  );
