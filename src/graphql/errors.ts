import { GraphQLError } from 'graphql';

// The contract's error codes, in one place. Every error a client sees is built here, so its
// `extensions.code` is always one of these and its message is always ours.

export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  PLAN_UPGRADE_REQUIRED: 'PLAN_UPGRADE_REQUIRED',
  PROVIDER_KEY_EXISTS: 'PROVIDER_KEY_EXISTS',
  PROVIDER_KEY_NOT_FOUND: 'PROVIDER_KEY_NOT_FOUND',
  KEY_REJECTED: 'KEY_REJECTED',
  CONFLICT: 'CONFLICT',
  RATE_LIMITED: 'RATE_LIMITED',
  GRAPHQL_VALIDATION_FAILED: 'GRAPHQL_VALIDATION_FAILED',
  GRAPHQL_PARSE_FAILED: 'GRAPHQL_PARSE_FAILED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCode));

/** An error meant for the client: its message and extensions are shown as they are. */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    // An answer to the client, not a fault: its stack is never shown or logged, and capturing and
    // formatting one (graphql-js reads it when it wraps the error) is the dearest part of a denial.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, { extensions: { ...extensions, code } });
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'AppError';
    Object.defineProperty(this, 'stack', {
      value: `AppError: ${message}`,
      writable: true,
      configurable: true,
    });
  }
}

export const unauthenticated = (message = 'A valid bearer token is required.') =>
  new AppError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message = 'You do not have permission to do this.') =>
  new AppError(ErrorCode.FORBIDDEN, message);

export const badUserInput = (message: string, field?: string) =>
  new AppError(ErrorCode.BAD_USER_INPUT, message, field ? { field } : {});
