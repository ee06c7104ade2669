import { useEffect, useRef, useState } from 'react';
import { useMutation } from '@apollo/client/react';
import { AFTER_KEY_CHANGE } from './after-change';
import { keyRemoved } from './cache-updates';
import { ErrorMessages, HealthBadge, Time } from './common';
import {
  RemoveProviderKeyDocument,
  TestProviderKeyDocument,
  type ProviderKeyFieldsFragment,
  type TestProviderKeyMutation,
} from './generated/graphql';
import { BILLING } from './labels';
import type { ProviderOption } from './providers';
import { RotateKeyForm } from './rotate-key.form';

// One stored key: a row named by the provider, with its masked key, label, health (the last test's
// message and time), billing mode and version, and the buttons "Test", "Rotate" and "Remove". Rotate and
// Remove open a panel in the row in place of the buttons (its own buttons, "Rotate key" and "Remove key",
// are the only ones with those words on screen then); closing it puts the focus back on the button.

type Panel = 'rotate' | 'remove';

export function KeyRow(props: {
  option: ProviderOption;
  storedKey: ProviderKeyFieldsFragment;
  /** Test and rotate need a plan that allows BYOK; remove always works. */
  byokAvailable: boolean;
  /** Whether this is the account's only stored key (what removing it leads to). */
  onlyKey: boolean;
  announce: (message: string) => void;
  onRemoved: (message: string) => void;
}) {
  const { option, storedKey } = props;
  const name = option.displayName;
  const [panel, setPanel] = useState<Panel>();
  const [focusBack, setFocusBack] = useState<Panel>();
  const [outcome, setOutcome] = useState<{
    test?: TestProviderKeyMutation['testProviderKey'];
    error?: unknown;
  }>({});
  const [busy, setBusy] = useState<'testing' | 'removing'>();
  const rotateButton = useRef<HTMLButtonElement>(null);
  const removeButton = useRef<HTMLButtonElement>(null);
  const cancelRemove = useRef<HTMLButtonElement>(null);
  const [testKey] = useMutation(TestProviderKeyDocument, { refetchQueries: AFTER_KEY_CHANGE });
  const [removeKey] = useMutation(RemoveProviderKeyDocument, {
    update(cache, { data }) {
      if (data) keyRemoved(cache, data.removeProviderKey);
    },
    refetchQueries: AFTER_KEY_CHANGE,
  });

  useEffect(() => {
    if (panel === 'remove') cancelRemove.current?.focus();
    if (!panel && focusBack) (focusBack === 'rotate' ? rotateButton : removeButton).current?.focus();
  }, [panel, focusBack]);

  /** A new action: what the last one said no longer applies. */
  function start() {
    setOutcome({});
    props.announce('');
  }

  function open(which: Panel) {
    if (busy) return;
    start();
    setPanel(which);
  }

  function close(which: Panel, message?: string) {
    setPanel(undefined);
    setFocusBack(which);
    if (message) props.announce(message);
  }

  async function test() {
    if (busy) return;
    start();
    setBusy('testing');
    try {
      // The answer's `key` is this key after the test: the cache merges it, so the row shows the new health.
      const { data } = await testKey({ variables: { input: { provider: option.provider } } });
      setOutcome({ test: data?.testProviderKey });
    } catch (error) {
      setOutcome({ error });
    } finally {
      setBusy(undefined);
    }
  }

  async function remove() {
    if (busy) return;
    start();
    setBusy('removing');
    try {
      await removeKey({ variables: { provider: option.provider } });
      // The row is gone with the key (evicted from the cache); the section takes over the focus.
      props.onRemoved(`${name} key removed: ${name} now uses the platform's built-in allocation.`);
    } catch (error) {
      setOutcome({ error });
      setBusy(undefined);
    }
  }

  return (
    <div role="row" aria-label={name} className="key-row">
      <div role="cell" className="key-identity">
        <strong className="provider-name">{name}</strong>
        <code>{storedKey.maskedKey}</code>
        {storedKey.label && <span className="key-label">{storedKey.label}</span>}
        {storedKey.endpoint && (
          <span className="muted break">
            {storedKey.endpoint}
            {storedKey.deployment && ` · ${storedKey.deployment}`}
          </span>
        )}
      </div>
      <div role="cell" className="key-health">
        <HealthBadge health={storedKey.health} />
        <p>{storedKey.lastTestMessage ?? 'Not tested yet.'}</p>
        {storedKey.lastTestedAt && (
          <p className="muted">
            Last test <Time iso={storedKey.lastTestedAt} />
          </p>
        )}
      </div>
      <div role="cell" className="key-billing">
        <span>{BILLING[storedKey.billingMode]}</span>
        <span className="muted">Version {storedKey.version}</span>
      </div>
      <div role="cell" className="key-actions">
        {!panel && (
          <div className="actions">
            {props.byokAvailable && (
              <button type="button" onClick={() => void test()} aria-disabled={busy !== undefined}>
                Test
              </button>
            )}
            {props.byokAvailable && (
              <button
                type="button"
                ref={rotateButton}
                onClick={() => open('rotate')}
                aria-disabled={busy !== undefined}
              >
                Rotate
              </button>
            )}
            <button
              type="button"
              ref={removeButton}
              className="danger"
              onClick={() => open('remove')}
              aria-disabled={busy !== undefined}
            >
              Remove
            </button>
          </div>
        )}
        <div className="row-outcome" aria-live="polite">
          {busy === 'testing' && <p className="muted">Testing…</p>}
          {outcome.test && (
            <p className="muted">
              Tested in {outcome.test.latencyMs} ms
              {outcome.test.missingModels.length > 0 &&
                `; missing models: ${outcome.test.missingModels.join(', ')}`}
              .
            </p>
          )}
          <ErrorMessages error={outcome.error} />
        </div>
      </div>
      {panel === 'rotate' && (
        <div role="cell" className="key-panel">
          <RotateKeyForm
            option={option}
            storedKey={storedKey}
            onClose={(message) => close('rotate', message)}
          />
        </div>
      )}
      {panel === 'remove' && (
        <div role="cell" className="key-panel">
          <div className="panel" role="group" aria-labelledby={`remove-${option.id}-question`}>
            <p id={`remove-${option.id}-question`}>
              Remove the {name} key <code>{storedKey.maskedKey}</code>? It is deleted for good, and {name}{' '}
              falls back to the platform&apos;s built-in allocation
              {props.onlyKey
                ? ': with no key left, every AI task runs on the built-in allocation, billed by the platform.'
                : '; AI tasks it serves move to another stored key.'}
            </p>
            <div className="actions">
              <button
                type="button"
                className="danger"
                onClick={() => void remove()}
                aria-disabled={busy !== undefined}
              >
                Remove key
              </button>
              <button type="button" ref={cancelRemove} onClick={() => close('remove')}>
                Cancel
              </button>
            </div>
            {busy === 'removing' && <p className="muted">Removing…</p>}
          </div>
        </div>
      )}
    </div>
  );
}
