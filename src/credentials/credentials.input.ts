import { AI_TASKS, AiTask } from '../providers/ai-task.enum';
import { KeyReport, REPORT_OUTCOMES, ReportOutcome } from '../provider-keys/key-reports';

// The bodies of the internal credential API, checked strictly: a field that does not exist, a wrong
// type or a value outside its set is refused with a message that says what to fix (a pipeline written
// in any language must be able to correct itself from it). Values are never quoted back: a pipeline that
// sends a key in the wrong field must not see it in a log or an answer.

export class BadRequestError extends Error {}

export interface ResolveRequest {
  accountId: string;
  task: AiTask;
}

export type ReportRequest = KeyReport & { providerStatus?: number };

/** An account id as the platform writes them. */
const ACCOUNT_ID = /^[A-Za-z0-9_.:-]{1,64}$/;
const KEY_ID = /^[0-9a-f-]{36}$/;

type Body = Record<string, unknown>;

function objectWith(body: unknown, allowed: readonly string[], required: readonly string[]): Body {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError(`The body must be a JSON object with ${required.join(' and ')}.`);
  }
  const unknown = Object.keys(body).filter((name) => !allowed.includes(name));
  if (unknown.length) {
    const names = unknown.map((name) => (/^[A-Za-z][A-Za-z0-9]{0,18}$/.test(name) ? `"${name}"` : 'a field'));
    throw new BadRequestError(`Unknown field ${names.join(', ')}: the fields are ${allowed.join(', ')}.`);
  }
  const missing = required.filter((name) => !(name in body));
  if (missing.length) throw new BadRequestError(`Missing ${missing.join(' and ')}.`);
  return body as Body;
}

function accountIdOf(body: Body): string {
  const { accountId } = body;
  if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId)) {
    throw new BadRequestError(
      'accountId must be the account\'s id: a string of 1 to 64 letters, digits, "_", ".", ":" or "-".',
    );
  }
  return accountId;
}

function oneOf<T extends string>(body: Body, name: string, values: readonly T[]): T {
  const value = body[name];
  if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
    throw new BadRequestError(`${name} must be one of ${values.join(', ')}.`);
  }
  return value as T;
}

export function readResolve(body: unknown): ResolveRequest {
  const fields = objectWith(body, ['accountId', 'task'], ['accountId', 'task']);
  return { accountId: accountIdOf(fields), task: oneOf(fields, 'task', AI_TASKS) };
}

export function readReport(body: unknown): ReportRequest {
  const fields = objectWith(
    body,
    ['accountId', 'keyId', 'keyVersion', 'outcome', 'providerStatus'],
    ['accountId', 'keyId', 'keyVersion', 'outcome'],
  );
  const { keyId, keyVersion, providerStatus } = fields;
  if (keyId !== null && (typeof keyId !== 'string' || !KEY_ID.test(keyId))) {
    throw new BadRequestError(
      'keyId must be the keyId that resolve answered: a key id, or null for the built-in allocation.',
    );
  }
  if (
    keyId === null ? keyVersion !== null : !Number.isSafeInteger(keyVersion) || (keyVersion as number) < 1
  ) {
    throw new BadRequestError(
      'keyVersion must be the keyVersion that resolve answered: a whole number from 1, or null with keyId null.',
    );
  }
  if (
    providerStatus !== undefined &&
    (!Number.isInteger(providerStatus) ||
      (providerStatus as number) < 100 ||
      (providerStatus as number) > 599)
  ) {
    throw new BadRequestError(
      'providerStatus, when given, must be the HTTP status the provider answered (100 to 599).',
    );
  }
  return {
    accountId: accountIdOf(fields),
    keyId: keyId,
    keyVersion: keyVersion as number | null,
    outcome: oneOf<ReportOutcome>(fields, 'outcome', REPORT_OUTCOMES),
    ...(providerStatus === undefined ? {} : { providerStatus: providerStatus as number }),
  };
}
