import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { AFTER_KEY_CHANGE } from './after-change';
import { keyAdded } from './cache-updates';
import { ConnectionTestResult, ErrorMessages, LocalMessages } from './common';
import { ExpiryField, expiryOf } from './expiry-field';
import {
  AddProviderKeyDocument,
  TestProviderKeyDocument,
  type AiProvider,
  type TestProviderKeyMutation,
} from './generated/graphql';
import type { ProviderOption } from './providers';

// "Add provider key": pick the provider, paste the key, "Test connection" (tests the candidate, stores
// nothing; "Deep test (billed)" also makes one tiny billed request per model), "Save" (tests again and
// stores the key only when it passes; KEY_REJECTED says why not), with an optional expiry.
// The key's field is uncontrolled: its value is read when a button needs it and is never put in React
// state or an attribute, so it is never rendered back; it is emptied on save and on cancel.

type Outcome =
  | { kind: 'test'; test: TestProviderKeyMutation['testProviderKey'] }
  | { kind: 'error'; error: unknown }
  | { kind: 'local'; messages: string[] };

export function AddKeyForm(props: {
  /** The providers without a stored key, in the dropdown's order. */
  providers: readonly ProviderOption[];
  onClose: (message?: string) => void;
}) {
  const [provider, setProvider] = useState<AiProvider>(props.providers[0].provider);
  const option = props.providers.find((entry) => entry.provider === provider) ?? props.providers[0];
  const [outcome, setOutcome] = useState<Outcome>();
  const [busy, setBusy] = useState<'testing' | 'saving'>();
  const select = useRef<HTMLSelectElement>(null);
  const apiKey = useRef<HTMLInputElement>(null);
  const endpoint = useRef<HTMLInputElement>(null);
  const deployment = useRef<HTMLInputElement>(null);
  const label = useRef<HTMLInputElement>(null);
  const expires = useRef<HTMLInputElement>(null);
  const [deep, setDeep] = useState(false);
  const [testKey] = useMutation(TestProviderKeyDocument);
  const [addKey] = useMutation(AddProviderKeyDocument, {
    update(cache, { data }) {
      if (data) keyAdded(cache, data.addProviderKey);
    },
    refetchQueries: AFTER_KEY_CHANGE,
  });

  useEffect(() => select.current?.focus(), []);

  /** The candidate as the API takes it; Azure's endpoint and deployment only for Azure. */
  function candidate() {
    const value = (field: typeof apiKey) => field.current?.value.trim() || undefined;
    return {
      provider,
      apiKey: apiKey.current?.value ?? '',
      ...(option.requiresEndpoint ? { endpoint: value(endpoint), deployment: value(deployment) } : {}),
    };
  }

  async function run(kind: 'testing' | 'saving', action: () => Promise<Outcome | undefined>) {
    if (busy) return;
    if (!apiKey.current?.value.trim()) {
      setOutcome({ kind: 'local', messages: [`Paste the ${option.displayName} API key first.`] });
      apiKey.current?.focus();
      return;
    }
    setBusy(kind);
    try {
      const result = await action();
      if (result) setOutcome(result);
    } catch (error) {
      setOutcome({ kind: 'error', error });
    } finally {
      setBusy(undefined);
    }
  }

  const test = () =>
    run('testing', async () => {
      const { data } = await testKey({ variables: { input: { ...candidate(), deep } } });
      return data && { kind: 'test', test: data.testProviderKey };
    });

  const save = (event: FormEvent) => {
    event.preventDefault();
    return run('saving', async () => {
      const expiry = expiryOf(expires);
      if (typeof expiry === 'string') return { kind: 'local', messages: [expiry] };
      const { data } = await addKey({
        variables: {
          input: {
            ...candidate(),
            label: label.current?.value.trim() || undefined,
            expiresAt: expiry.expiresAt ?? undefined,
          },
        },
      });
      if (!data) return undefined;
      if (apiKey.current) apiKey.current.value = '';
      const { maskedKey } = data.addProviderKey;
      props.onClose(`${option.displayName} key ${maskedKey} saved.`);
      return undefined;
    });
  };

  function cancel() {
    if (apiKey.current) apiKey.current.value = '';
    props.onClose();
  }

  return (
    <form
      id="add-key-form"
      className="add-form"
      aria-labelledby="add-key-heading"
      noValidate
      onSubmit={(event) => void save(event)}
    >
      <h3 id="add-key-heading">Add provider key</h3>
      <div className="field">
        <label htmlFor="add-provider">Provider</label>
        <select
          id="add-provider"
          ref={select}
          value={provider}
          onChange={(event) => {
            setProvider(event.target.value as AiProvider);
            setOutcome(undefined);
          }}
        >
          {props.providers.map((entry) => (
            <option key={entry.id} value={entry.provider}>
              {entry.displayName}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="add-api-key">API key</label>
        <input
          id="add-api-key"
          ref={apiKey}
          type="password"
          autoComplete="off"
          spellCheck={false}
          aria-describedby="add-api-key-hint"
        />
        <p id="add-api-key-hint" className="hint">
          {option.keyHint}
        </p>
      </div>
      {option.requiresEndpoint && (
        <>
          <div className="field">
            <label htmlFor="add-endpoint">Endpoint</label>
            <input
              id="add-endpoint"
              ref={endpoint}
              type="url"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              placeholder="https://<resource>.openai.azure.com"
              aria-describedby="add-endpoint-hint"
            />
            <p id="add-endpoint-hint" className="hint">
              The resource&apos;s endpoint, from its &quot;Keys and Endpoint&quot; page.
            </p>
          </div>
          <div className="field">
            <label htmlFor="add-deployment">Deployment</label>
            <input
              id="add-deployment"
              ref={deployment}
              autoComplete="off"
              spellCheck={false}
              aria-describedby="add-deployment-hint"
            />
            <p id="add-deployment-hint" className="hint">
              The name of the model deployment that AI tasks are sent to.
            </p>
          </div>
        </>
      )}
      <div className="field">
        <label htmlFor="add-label">Label</label>
        <input id="add-label" ref={label} autoComplete="off" aria-describedby="add-label-hint" />
        <p id="add-label-hint" className="hint">
          Optional: a name for your team, such as &quot;Production&quot;.
        </p>
      </div>
      <ExpiryField
        id="add-expires"
        ref={expires}
        hint="Optional: from then on AI tasks no longer use the key. Empty: it does not expire."
      />
      <div className="field checkbox-field">
        <input
          id="add-deep"
          type="checkbox"
          checked={deep}
          onChange={(event) => setDeep(event.target.checked)}
          aria-describedby="add-deep-hint"
        />
        <label htmlFor="add-deep">Deep test (billed)</label>
        <p id="add-deep-hint" className="hint">
          &quot;Test connection&quot; then also sends one tiny request (one output token) per model the
          platform needs. Your provider bills these requests; they catch an account that is out of credit,
          which a model list does not.
        </p>
      </div>
      <div className="actions">
        <button type="button" onClick={() => void test()} aria-disabled={busy !== undefined}>
          Test connection
        </button>
        <button type="submit" className="primary" aria-disabled={busy !== undefined}>
          Save
        </button>
        <button type="button" onClick={cancel}>
          Cancel
        </button>
      </div>
      {/* Room for the answer is kept from the start, so nothing below moves when it arrives. */}
      <div className="outcome" aria-live="polite">
        {busy === 'testing' && <p className="muted">Testing the connection…</p>}
        {busy === 'saving' && <p className="muted">Testing and saving…</p>}
        {!busy && outcome?.kind === 'test' && <ConnectionTestResult test={outcome.test} />}
        {!busy && outcome?.kind === 'error' && <ErrorMessages error={outcome.error} />}
        {!busy && outcome?.kind === 'local' && <LocalMessages messages={outcome.messages} />}
      </div>
    </form>
  );
}
