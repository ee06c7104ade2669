import { messagesOf } from './api-errors';
import { formatTime, HEALTH } from './labels';
import type { KeyHealth, TestProviderKeyMutation } from './generated/graphql';

type ConnectionTestFields = Pick<
  TestProviderKeyMutation['testProviderKey'],
  'ok' | 'health' | 'message' | 'missingModels' | 'latencyMs' | 'deep'
>;

// Small pieces every section uses.

export function HealthBadge({ health }: { health: KeyHealth }) {
  const { label, tone } = HEALTH[health];
  return <span className={`badge badge-${tone}`}>{label}</span>;
}

export function Time({ iso }: { iso: string }) {
  return <time dateTime={iso}>{formatTime(iso)}</time>;
}

/** The API's messages for a failed request, announced as they appear. */
export function ErrorMessages({ error }: { error: unknown }) {
  return error ? <LocalMessages messages={messagesOf(error)} /> : null;
}

/** Messages the page writes itself (a field left empty), shown like the API's. */
export function LocalMessages({ messages }: { messages: readonly string[] }) {
  if (!messages.length) return null;
  return (
    <div className="error" role="alert">
      {messages.map((message, index) => (
        <p key={index}>{message}</p>
      ))}
    </div>
  );
}

/** A connection test's answer: the health, our message, the models the key lacks, the time it took. */
export function ConnectionTestResult({ test }: { test: ConnectionTestFields }) {
  return (
    <div className={`test-result ${test.ok ? 'test-ok' : 'test-failed'}`}>
      <p>
        <HealthBadge health={test.health} />{' '}
        <strong>{test.ok ? 'Connection works' : 'Connection failed'}</strong>{' '}
        <span className="muted">· {test.latencyMs} ms</span>
      </p>
      <p>{test.message}</p>
      {test.deep && <p>Deep test: billed requests were made to each model the platform needs.</p>}
      {test.missingModels.length > 0 && (
        <p>
          Missing models:{' '}
          {test.missingModels.map((model, index) => (
            <span key={model}>
              {index > 0 && ', '}
              <code>{model}</code>
            </span>
          ))}
        </p>
      )}
    </div>
  );
}
