import {
  GraphQLError,
  GraphQLFormattedError,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
} from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError } from 'type-graphql';
import { Logger } from 'pino';
import { AppError, ErrorCode, KNOWN_CODES } from './errors';
import { TOKEN_LIMIT_MESSAGE } from './limits';

// What a client sees of an error. Our own errors pass as they are; input validation becomes
// BAD_USER_INPUT naming the fields to fix; GraphQL's own request errors keep their codes with any
// echoed input value cut out; everything else is "Internal server error", logged here in full.

const ECHOED_VALUE =
  /( got invalid value| found| non[- ]string value:| cannot represent[^:]*:) .*?(?=; |\.$|$)/gs;
const APOLLO_CLIENT_CODES = new Set([
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);
const QUOTED = /"((?:[^"\\]|\\.)*)"/g;
/** A mistyped field or argument name; no provider key is shorter than 20 characters. */
const SHORT_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,18}$/;
/** A `$variable` name, as short as SHORT_NAME: a variable may be named with a key too. */
const VARIABLE = /^\$[_A-Za-z][_0-9A-Za-z]{0,18}$/;
/** A path into a variable, e.g. "input.provider" or "input.items[2]". */
const PATH = /^[_A-Za-z][_0-9A-Za-z]{0,18}((\.[_A-Za-z][_0-9A-Za-z]{0,18})|(\[\d+\]))+$/;

/** Every name a GraphQL message may legitimately quote: types, fields, arguments and enum values. */
export function schemaNames(schema: GraphQLSchema): Set<string> {
  const names = new Set<string>();
  for (const type of Object.values(schema.getTypeMap())) {
    names.add(type.name);
    if (isEnumType(type)) for (const value of type.getValues()) names.add(value.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        names.add(field.name);
        for (const arg of field.args) names.add(arg.name);
      }
    }
    if (isInputObjectType(type)) for (const field of Object.values(type.getFields())) names.add(field.name);
  }
  return names;
}

/** A name that may be shown or logged as it is: one of the schema's, or shorter than any provider key. */
export function isQuotableName(name: string, names: ReadonlySet<string>): boolean {
  return names.has(name) || SHORT_NAME.test(name);
}

/**
 * Hides input values GraphQL quotes back: a key sent in the wrong place (as an enum value, as a whole
 * input object) must not come back in an error. What stays: schema names, variable names and paths,
 * names shorter than any key, and quoted bits too short to carry five characters of anything.
 */
function withoutEchoedValues(message: string, names: ReadonlySet<string>): string {
  return message
    .replace(QUOTED, (match, inner: string) =>
      inner.length < 5 || isQuotableName(inner, names) || VARIABLE.test(inner) || PATH.test(inner)
        ? match
        : '(value hidden)',
    )
    .replace(ECHOED_VALUE, (match, lead: string) =>
      /[A-Za-z0-9_-]{5,}/.test(match.slice(lead.length).replace(/\(value hidden\)/g, ''))
        ? `${lead} (value hidden)`
        : match,
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

/** An error Apollo raised about the request itself (no path: no resolver ran), answered with a 4xx. */
function isRequestRefusal(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.path !== undefined || error.extensions.code !== undefined)
    return false;
  const status = (error.extensions.http as { status?: number } | undefined)?.status;
  return status !== undefined && status >= 400 && status < 500;
}

/** graphql-js's hints ("Did you mean "role"?", "Did you mean the enum value "OPENAI"?"), any kind. */
const SUGGESTION = /\s*Did you mean [^?]*\?/g;

/**
 * hideSuggestions (production): "Did you mean …?" maps the schema for a stranger, so it is cut from
 * every message, validation and variable coercion alike; developers keep it.
 */
export function createErrorFormatter(
  log: Logger,
  names: ReadonlySet<string>,
  options: { hideSuggestions: boolean },
) {
  const format = createFormatter(log, names);
  if (!options.hideSuggestions) return format;
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const result = format(formatted, error);
    return { ...result, message: result.message.replace(SUGGESTION, '') };
  };
}

function createFormatter(log: Logger, names: ReadonlySet<string>) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof ArgumentValidationError) return validationMessage(original);
    const tokenLimit =
      formatted.extensions?.code === ErrorCode.GRAPHQL_PARSE_FAILED &&
      TOKEN_LIMIT_MESSAGE.exec(formatted.message);
    if (tokenLimit) {
      return {
        message: `The document has more than ${tokenLimit[1]} tokens, the limit.`,
        extensions: { code: ErrorCode.GRAPHQL_VALIDATION_FAILED },
      };
    }
    // Apollo's own refusals of a request (batching, CSRF, a missing query, an operation name the document
    // lacks) carry codes outside the contract: to a client they are input to fix.
    if (APOLLO_CLIENT_CODES.has(String(formatted.extensions?.code))) {
      return {
        message: withoutEchoedValues(formatted.message, names),
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    // Apollo's other refusals of a request (a persisted query's hash or version) carry no code at all,
    // only the 400 they are answered with.
    if (isRequestRefusal(error)) {
      return {
        message: withoutEchoedValues(formatted.message, names),
        extensions: { code: ErrorCode.BAD_USER_INPUT },
      };
    }
    const code = formatted.extensions?.code;
    // INTERNAL_SERVER_ERROR passes only from an AppError: a fault we foresaw and worded ourselves.
    const isOurs =
      typeof code === 'string' &&
      KNOWN_CODES.has(code) &&
      (code !== ErrorCode.INTERNAL_SERVER_ERROR || original instanceof AppError);
    if (isOurs) {
      const { stacktrace: _stacktrace, ...extensions } = formatted.extensions ?? {};
      // Messages we wrote (AppError) quote no input; only GraphQL's own request errors may echo it.
      const message =
        original instanceof AppError ? formatted.message : withoutEchoedValues(formatted.message, names);
      return { ...formatted, message, extensions };
    }
    log.error({ err: original, path: formatted.path }, 'unexpected error while handling a GraphQL request');
    return {
      message: 'Internal server error',
      path: formatted.path,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
