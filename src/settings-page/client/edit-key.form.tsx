import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { ErrorMessages, LocalMessages } from './common';
import { ExpiryField, expiryOf, localInputOf } from './expiry-field';
import {
  AiSettingsDocument,
  ProviderKeyEventsDocument,
  UpdateProviderKeyDocument,
  type ProviderKeyFieldsFragment,
} from './generated/graphql';
import { hasPassed } from './labels';
import type { ProviderOption } from './providers';

// "Edit": the key's label and expiry (updateProviderKey), never the key itself. Only what the admin
// changed is sent, so that an expired key can be relabelled without its past expiry being refused. The
// answer is the key, which the cache merges into the row; the audit trail's first page is asked again
// (the answer does not carry the UPDATED event), and the routes only when an expired key's expiry
// changed (the one edit that can put a key back into routing).

export function EditKeyForm(props: {
  option: ProviderOption;
  storedKey: ProviderKeyFieldsFragment;
  onClose: (message?: string) => void;
}) {
  const { option, storedKey } = props;
  const ids = `edit-${option.provider.toLowerCase()}`;
  const label = useRef<HTMLInputElement>(null);
  const expires = useRef<HTMLInputElement>(null);
  const [problem, setProblem] = useState<{ error?: unknown; local?: string }>({});
  const [busy, setBusy] = useState(false);
  const [updateKey] = useMutation(UpdateProviderKeyDocument);

  useEffect(() => label.current?.focus(), []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const expiry = expiryOf(expires);
    if (typeof expiry === 'string') {
      setProblem({ local: expiry });
      expires.current?.focus();
      return;
    }
    const newLabel = label.current?.value.trim() || null;
    const labelChanged = newLabel !== (storedKey.label ?? null);
    const expiryChanged = (expires.current?.value ?? '') !== localInputOf(storedKey.expiresAt);
    if (!labelChanged && !expiryChanged) return props.onClose();
    setBusy(true);
    setProblem({});
    try {
      const { data } = await updateKey({
        variables: {
          input: {
            provider: option.provider,
            ...(labelChanged ? { label: newLabel } : {}),
            ...(expiryChanged ? expiry : {}),
          },
        },
        refetchQueries: [
          ProviderKeyEventsDocument,
          ...(expiryChanged && hasPassed(storedKey.expiresAt) ? [AiSettingsDocument] : []),
        ],
      });
      props.onClose(data && `${option.displayName} key updated.`);
    } catch (error) {
      setProblem({ error });
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="panel"
      aria-label={`Edit the ${option.displayName} key`}
      noValidate
      onSubmit={(event) => void submit(event)}
    >
      <div className="field">
        <label htmlFor={`${ids}-label`}>Label</label>
        <input
          id={`${ids}-label`}
          ref={label}
          autoComplete="off"
          defaultValue={storedKey.label ?? ''}
          aria-describedby={`${ids}-label-hint`}
        />
        <p id={`${ids}-label-hint`} className="hint">
          Empty: no label.
        </p>
      </div>
      <ExpiryField
        id={`${ids}-expires`}
        ref={expires}
        initial={storedKey.expiresAt}
        hint="From then on AI tasks no longer use the key. Empty: it does not expire."
      />
      <div className="actions">
        <button type="submit" className="primary" aria-disabled={busy}>
          Save changes
        </button>
        <button type="button" onClick={() => props.onClose()}>
          Cancel
        </button>
      </div>
      <div className="outcome" aria-live="polite">
        {busy && <p className="muted">Saving…</p>}
        {problem.local && <LocalMessages messages={[problem.local]} />}
        <ErrorMessages error={problem.error} />
      </div>
    </form>
  );
}
