import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useApolloClient, useMutation } from '@apollo/client/react';
import { AFTER_KEY_CHANGE } from './after-change';
import { hasCode } from './api-errors';
import { ErrorMessages, LocalMessages } from './common';
import { ExpiryField, expiryOf } from './expiry-field';
import {
  ProviderKeysDocument,
  RotateProviderKeyDocument,
  type ProviderKeyFieldsFragment,
} from './generated/graphql';
import { hasPassed } from './labels';
import type { ProviderOption } from './providers';

// Rotate in place: the new key replaces the stored one (same id, version + 1), tested first. The version
// the admin is looking at goes along (expectedVersion): when someone else rotated meanwhile the API
// answers CONFLICT, the page says so and asks for the keys, routes and activity again, so that the row
// shows their version. The new key's expiry starts as the current one (a rotation without one clears it).

export function RotateKeyForm(props: {
  option: ProviderOption;
  storedKey: ProviderKeyFieldsFragment;
  onClose: (message?: string) => void;
}) {
  const { option, storedKey } = props;
  const ids = `rotate-${option.provider.toLowerCase()}`;
  const apiKey = useRef<HTMLInputElement>(null);
  const endpoint = useRef<HTMLInputElement>(null);
  const deployment = useRef<HTMLInputElement>(null);
  const expires = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<{ error?: unknown; local?: string; conflict?: boolean }>({});
  const [busy, setBusy] = useState(false);
  const client = useApolloClient();
  const [rotateKey] = useMutation(RotateProviderKeyDocument, { refetchQueries: AFTER_KEY_CHANGE });

  useEffect(() => apiKey.current?.focus(), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const value = apiKey.current?.value ?? '';
    if (!value.trim()) {
      setProblem({ local: `Paste the new ${option.displayName} API key first.` });
      apiKey.current?.focus();
      return;
    }
    const expiry = expiryOf(expires);
    if (typeof expiry === 'string') {
      setProblem({ local: expiry });
      expires.current?.focus();
      return;
    }
    setBusy(true);
    setProblem({});
    try {
      const { data } = await rotateKey({
        variables: {
          input: {
            provider: option.provider,
            apiKey: value,
            expectedVersion: storedKey.version,
            expiresAt: expiry.expiresAt ?? undefined,
            ...(option.requiresEndpoint
              ? { endpoint: endpoint.current?.value.trim(), deployment: deployment.current?.value.trim() }
              : {}),
          },
        },
      });
      if (apiKey.current) apiKey.current.value = '';
      const rotated = data?.rotateProviderKey;
      props.onClose(
        rotated && `${option.displayName} key rotated: now ${rotated.maskedKey}, version ${rotated.version}.`,
      );
    } catch (error) {
      const conflict = hasCode(error, 'CONFLICT');
      setProblem({ error, conflict });
      // The answer to a conflict carries no key: ask for the current state, so the row shows theirs.
      if (conflict) await client.refetchQueries({ include: [ProviderKeysDocument, ...AFTER_KEY_CHANGE] });
    } finally {
      setBusy(false);
    }
  }

  function cancel() {
    if (apiKey.current) apiKey.current.value = '';
    props.onClose();
  }

  return (
    <form
      className="panel"
      aria-label={`Rotate the ${option.displayName} key`}
      noValidate
      onSubmit={(event) => void submit(event)}
    >
      <p>
        The new key replaces <code>{storedKey.maskedKey}</code> (version {storedKey.version}) in place. It is
        tested first; AI tasks switch to it as soon as it is saved.
      </p>
      <div className="field">
        <label htmlFor={`${ids}-api-key`}>API key</label>
        <input
          id={`${ids}-api-key`}
          ref={apiKey}
          type="password"
          autoComplete="off"
          spellCheck={false}
          aria-describedby={`${ids}-hint`}
        />
        <p id={`${ids}-hint`} className="hint">
          The new key. {option.keyHint}
        </p>
      </div>
      {option.requiresEndpoint && (
        <>
          <div className="field">
            <label htmlFor={`${ids}-endpoint`}>Endpoint</label>
            <input
              id={`${ids}-endpoint`}
              ref={endpoint}
              type="url"
              inputMode="url"
              autoComplete="off"
              spellCheck={false}
              defaultValue={storedKey.endpoint ?? ''}
            />
          </div>
          <div className="field">
            <label htmlFor={`${ids}-deployment`}>Deployment</label>
            <input
              id={`${ids}-deployment`}
              ref={deployment}
              autoComplete="off"
              spellCheck={false}
              defaultValue={storedKey.deployment ?? ''}
            />
          </div>
        </>
      )}
      <ExpiryField
        id={`${ids}-expires`}
        ref={expires}
        initial={hasPassed(storedKey.expiresAt) ? null : storedKey.expiresAt}
        hint="Optional: the new key's expiry. Empty: the new key does not expire."
      />
      <div className="actions">
        <button type="submit" className="primary" aria-disabled={busy}>
          Rotate key
        </button>
        <button type="button" onClick={cancel}>
          Cancel
        </button>
      </div>
      <div className="outcome" aria-live="polite">
        {busy && <p className="muted">Testing and rotating…</p>}
        {problem.local && <LocalMessages messages={[problem.local]} />}
        <ErrorMessages error={problem.error} />
        {problem.conflict && (
          <p>
            Someone else rotated this key while you had the page open; the row above now shows their version.
            If your key should still replace it, rotate again.
          </p>
        )}
      </div>
    </form>
  );
}
