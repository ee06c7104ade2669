import { BillingMode } from '../accounts/billing-mode.enum';
import { AI_TASKS } from '../providers/ai-task.enum';
import { AiProvider } from '../providers/ai-provider.enum';
import { KeyHealth } from '../providers/key-health.enum';
import { REPORT_OUTCOMES } from '../provider-keys/key-reports';
import { RouteStatus } from '../routing/route-status.enum';

// The internal credential API described as OpenAPI 3.1: served at /internal/v1/openapi.json and
// committed as schema/internal-api.openapi.json (`npm run schema:emit`; a test fails when they differ).
// The enums come from the code's own lists, so the description cannot drift from what is accepted.

const ERROR_CODES = [
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'ACCOUNT_NOT_FOUND',
  'NO_USABLE_CREDENTIAL',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAVAILABLE',
  'INTERNAL',
] as const;
export type InternalErrorCode = (typeof ERROR_CODES)[number];

const error = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

const nullable = (schema: Record<string, unknown>) => ({ oneOf: [schema, { type: 'null' }] });

export const INTERNAL_API_OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'BYOK internal credential API',
    version: '1.0.0',
    description:
      "For the platform's pipelines in other processes: the credential for one AI task of an account, and what the provider answered a call made with it. Served on its own listener (INTERNAL_PORT), never the public one. Every credentials call carries a service token: a JWT whose aud is INTERNAL_AUDIENCE (default byok-internal), sub the calling service and scope a space-separated list of credentials:resolve and credentials:report.",
  },
  servers: [{ url: 'https://byok-internal.example.internal', description: 'INTERNAL_HOST:INTERNAL_PORT' }],
  security: [{ serviceToken: [] }],
  paths: {
    '/internal/v1/credentials/resolve': {
      post: {
        operationId: 'resolveCredential',
        summary:
          'The provider, model and plaintext key to use for one task of an account (scope credentials:resolve).',
        description:
          'Reads the database on every call: a rotation, removal, plan or health change shows on the next call. Counts one use of the key served. Hold apiKey only for the call it is for; never store or log it.',
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ResolveRequest' } } },
        },
        responses: {
          '200': {
            description: 'The route and the credential.',
            headers: { 'cache-control': { schema: { type: 'string', const: 'no-store' } } },
            content: { 'application/json': { schema: { $ref: '#/components/schemas/Credential' } } },
          },
          '400': error('BAD_REQUEST: the body is not what the schema says; the message says what to fix.'),
          '401': error('UNAUTHENTICATED: no service token, or not a valid one.'),
          '403': error('FORBIDDEN: the token lacks the scope credentials:resolve.'),
          '404': error('ACCOUNT_NOT_FOUND: no account with that id.'),
          '409': error(
            'NO_USABLE_CREDENTIAL: nothing may serve the task; `reason` says why and what to fix.',
          ),
          '413': error('PAYLOAD_TOO_LARGE: the body is too large.'),
          '415': error('UNSUPPORTED_MEDIA_TYPE: the body is not application/json.'),
          '503': error('UNAVAILABLE: the database does not answer; retry.'),
          '500': error('INTERNAL: an unexpected error.'),
        },
      },
    },
    '/internal/v1/credentials/report': {
      post: {
        operationId: 'reportOutcome',
        summary:
          'What the provider answered a call made with a key that resolve handed out (scope credentials:report).',
        description:
          "A hard outcome (INVALID_KEY, INSUFFICIENT_PERMISSIONS, QUOTA_EXCEEDED) sets the key's health at once, so routing skips it from the next call. Three transient outcomes (RATE_LIMITED, PROVIDER_UNREACHABLE, PROVIDER_ERROR) within 60 s cool the key down for 60 s. OK changes no health. A report for another keyVersion than the stored one, for a key that no longer exists, or for the built-in allocation (keyId null) changes nothing.",
        requestBody: {
          required: true,
          content: { 'application/json': { schema: { $ref: '#/components/schemas/ReportRequest' } } },
        },
        responses: {
          '204': { description: 'Recorded (or, as described, nothing to change).' },
          '400': error('BAD_REQUEST: the body is not what the schema says; the message says what to fix.'),
          '401': error('UNAUTHENTICATED: no service token, or not a valid one.'),
          '403': error('FORBIDDEN: the token lacks the scope credentials:report.'),
          '413': error('PAYLOAD_TOO_LARGE: the body is too large.'),
          '415': error('UNSUPPORTED_MEDIA_TYPE: the body is not application/json.'),
          '503': error('UNAVAILABLE: the database does not answer; retry.'),
          '500': error('INTERNAL: an unexpected error.'),
        },
      },
    },
    '/internal/v1/openapi.json': {
      get: {
        operationId: 'openApi',
        summary: 'This description.',
        security: [],
        responses: {
          '200': {
            description: 'OpenAPI 3.1',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
        },
      },
    },
  },
  components: {
    securitySchemes: {
      serviceToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
    },
    schemas: {
      ResolveRequest: {
        type: 'object',
        additionalProperties: false,
        required: ['accountId', 'task'],
        properties: {
          accountId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$', examples: ['acct_acme'] },
          task: { type: 'string', enum: [...AI_TASKS] },
        },
      },
      Credential: {
        type: 'object',
        additionalProperties: false,
        required: [
          'provider',
          'model',
          'endpoint',
          'apiKey',
          'billingMode',
          'status',
          'keyId',
          'keyVersion',
          'health',
        ],
        properties: {
          provider: { type: 'string', enum: Object.values(AiProvider) },
          model: { type: 'string', description: 'The model to call; for AZURE_OPENAI the deployment.' },
          endpoint: {
            ...nullable({ type: 'string', format: 'uri' }),
            description: 'AZURE_OPENAI: the resource endpoint.',
          },
          apiKey: {
            type: 'string',
            description: 'The plaintext key. Hold it only for the call; never store or log it.',
          },
          billingMode: { type: 'string', enum: Object.values(BillingMode) },
          status: { type: 'string', enum: Object.values(RouteStatus) },
          keyId: {
            ...nullable({ type: 'string' }),
            description: 'The stored key served; null for BUILT_IN.',
          },
          keyVersion: {
            ...nullable({ type: 'integer', minimum: 1 }),
            description: 'Report with it; null for BUILT_IN.',
          },
          health: {
            ...nullable({ type: 'string', enum: Object.values(KeyHealth) }),
            description: 'null for BUILT_IN.',
          },
        },
      },
      ReportRequest: {
        type: 'object',
        additionalProperties: false,
        required: ['accountId', 'keyId', 'keyVersion', 'outcome'],
        properties: {
          accountId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' },
          keyId: nullable({ type: 'string' }),
          keyVersion: nullable({ type: 'integer', minimum: 1 }),
          outcome: { type: 'string', enum: [...REPORT_OUTCOMES] },
          providerStatus: {
            type: 'integer',
            minimum: 100,
            maximum: 599,
            description: 'The HTTP status the provider answered.',
          },
        },
      },
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: {
              code: { type: 'string', enum: [...ERROR_CODES] },
              message: { type: 'string' },
              reason: { type: 'string', description: 'NO_USABLE_CREDENTIAL: why, and what to fix.' },
            },
          },
        },
      },
    },
  },
} as const;

/** The committed file's text: the document as served, pretty-printed. */
export const openApiText = (): string => `${JSON.stringify(INTERNAL_API_OPENAPI, null, 2)}\n`;
