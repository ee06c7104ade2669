import { GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError } from 'type-graphql';
import { Logger } from 'pino';
import { ErrorCode, KNOWN_CODES } from './errors';

// What a client sees of an error. Our own errors pass as they are; input validation becomes
// BAD_USER_INPUT naming the fields to fix; GraphQL's own request errors keep their codes with any
// echoed input value cut out; everything else is "Internal server error", logged here in full.

const ECHOED_VALUE = /( got invalid value| found| non[- ]string value:| cannot represent[^:]*:) .*?(?=; |\.$|$)/gs;

/** Hides input values GraphQL quotes back (a key sent in the wrong place must not come back in an error). */
function withoutEchoedValues(message: string): string {
  return message.replace(ECHOED_VALUE, (match, lead: string) =>
    /[A-Za-z0-9_-]{5,}/.test(match.slice(lead.length)) ? `${lead} (value hidden)` : match,
  );
}

function validationMessage(error: ArgumentValidationError): GraphQLFormattedError {
  const problems: { field: string; messages: string[] }[] = [];
  const walk = (errors: typeof error.extensions.validationErrors, prefix: string) => {
    for (const item of errors) {
      const field = prefix ? `${prefix}.${item.property}` : item.property;
      if (item.constraints) problems.push({ field, messages: Object.values(item.constraints) });
      if (item.children?.length) walk(item.children, field);
    }
  };
  walk(error.extensions.validationErrors, '');
  const summary = problems.map((p) => p.messages.join('; ')).join('; ');
  return {
    message: summary ? `Invalid input: ${summary}.` : 'Invalid input.',
    extensions: { code: ErrorCode.BAD_USER_INPUT, fields: problems },
  };
}

export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ArgumentValidationError) return validationMessage(original);
    const code = formatted.extensions?.code;
    const isOurs = typeof code === 'string' && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR;
    if (isOurs) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, message: withoutEchoedValues(formatted.message), extensions };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error while handling a GraphQL request');
    return { message: 'Internal server error', path: formatted.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
  };
}
