import { CombinedGraphQLErrors, ServerError, ServerParseError } from '@apollo/client';

// What the page shows when a request fails: the messages the API returned, as they are (they are written
// for people and say what to fix), never a stack or a library's own wording. RATE_LIMITED says the wait.

export interface ApiProblem {
  code: string | undefined;
  message: string;
  extensions: Readonly<Record<string, unknown>>;
}

interface ErrorBody {
  errors?: { message?: unknown; extensions?: Record<string, unknown> }[];
}

/** The API's errors in a failed request, or one sentence about why there is no answer to show. */
export function problemsOf(error: unknown): ApiProblem[] {
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map(({ message, extensions = {} }) => ({
      code: typeof extensions.code === 'string' ? extensions.code : undefined,
      message,
      extensions,
    }));
  }
  // An answer that is not a GraphQL result (e.g. a 413 for a body over the limit) still carries our errors.
  if (ServerError.is(error)) {
    const body = parse(error.bodyText);
    const errors = (body?.errors ?? []).filter((entry) => typeof entry.message === 'string');
    if (errors.length)
      return errors.map(({ message, extensions = {} }) => ({
        code: typeof extensions.code === 'string' ? extensions.code : undefined,
        message: message as string,
        extensions,
      }));
    return [problem(`The service answered HTTP ${error.statusCode}. Try again in a moment.`)];
  }
  if (ServerParseError.is(error)) {
    return [
      problem(`The service's answer (HTTP ${error.statusCode}) could not be read. Try again in a moment.`),
    ];
  }
  return [problem('The service could not be reached. Check the connection, then try again.')];
}

/** One line for a problem: its message, plus the wait for RATE_LIMITED when the message does not say it. */
export function sentenceOf({ code, message, extensions }: ApiProblem): string {
  const wait = extensions.retryAfterSeconds;
  if (code === 'RATE_LIMITED' && typeof wait === 'number' && !message.includes(`${wait} s`))
    return `${message} Try again in ${wait} s.`;
  return message;
}

export const messagesOf = (error: unknown): string[] => problemsOf(error).map(sentenceOf);

export const hasCode = (error: unknown, code: string): boolean =>
  problemsOf(error).some((entry) => entry.code === code);

const problem = (message: string): ApiProblem => ({ code: undefined, message, extensions: {} });

function parse(text: string): ErrorBody | undefined {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return undefined;
  }
}
