import { useEffect, useRef, useState } from 'react';
import { useMutation } from '@apollo/client/react';
import { AFTER_KEY_CHANGE } from './after-change';
import { keyRemoved } from './cache-updates';
import { ErrorMessages, HealthBadge, Time } from './common';
import { EditKeyForm } from './edit-key.form';
import {
  RemoveProviderKeyDocument,
  TestProviderKeyDocument,
  type ProviderKeyFieldsFragment,
  type TestProviderKeyMutation,
} from './generated/graphql';
import { BILLING, hasPassed } from './labels';
import type { ProviderOption } from './providers';
import { RotateKeyForm } from './rotate-key.form';
import { UsageChart, type UsageDay } from './usage-chart';

// One stored key: a row named by the provider, with its masked key, label, health (the last test's
// message and time, a cooldown), billing mode, version, last use and expiry, the models it lists, 30 days
// of use, and the buttons "Test", "Rotate", "Edit" and "Remove". Rotate, Edit and Remove open a panel in
// the row in place of the buttons (its own buttons, "Rotate key" and "Remove key", are the only ones with
// those words on screen then); closing it puts the focus back on the button.

type Panel = 'rotate' | 'edit' | 'remove';

/**
 * How many of the listed models the row names before "and N more" (a key may list hundreds). Short text,
 * not a disclosure widget: a <details> is a group, and the row's one group is Remove's confirmation.
 */
const MODELS_SHOWN = 5;

export function KeyRow(props: {
  option: ProviderOption;
  storedKey: ProviderKeyFieldsFragment;
  /** Test and rotate need a plan that allows BYOK; remove always works. */
  byokAvailable: boolean;
  /** Whether this is the account's only stored key (what removing it leads to). */
  onlyKey: boolean;
  /** The account's built-in fallback: off, tasks pause when no stored key works. */
  builtInFallback: boolean;
  /** The last 30 days with activity; undefined while unknown. */
  usage: readonly UsageDay[] | undefined;
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
  const editButton = useRef<HTMLButtonElement>(null);
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
    if (!panel && focusBack)
      ({ rotate: rotateButton, edit: editButton, remove: removeButton })[focusBack].current?.focus();
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
      props.onRemoved(
        props.onlyKey || props.builtInFallback
          ? `${name} key removed: ${name} now uses the platform's built-in allocation.`
          : `${name} key removed.`,
      );
    } catch (error) {
      setOutcome({ error });
      setBusy(undefined);
    }
  }

  const expired = hasPassed(storedKey.expiresAt);
  const coolingDown = storedKey.coolingDownUntil && !hasPassed(storedKey.coolingDownUntil);
  const models = storedKey.availableModels;

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
        <span className="badges">
          <HealthBadge health={storedKey.health} />
          {expired && <span className="badge badge-bad">Expired</span>}
        </span>
        <p>{storedKey.lastTestMessage ?? 'Not tested yet.'}</p>
        {storedKey.lastTestedAt && (
          <p className="muted">
            Last test <Time iso={storedKey.lastTestedAt} />
          </p>
        )}
        {coolingDown && (
          <p className="warn-text">
            Paused until <Time iso={storedKey.coolingDownUntil!} /> after repeated failures: AI tasks use
            another key meanwhile.
          </p>
        )}
      </div>
      <div role="cell" className="key-billing">
        <span>{BILLING[storedKey.billingMode]}</span>
        <span className="muted">Version {storedKey.version}</span>
        <span className="muted">
          {storedKey.lastUsedAt ? (
            <>
              Last used <Time iso={storedKey.lastUsedAt} />
            </>
          ) : (
            'Not used yet'
          )}
        </span>
        <span className={expired ? 'warn-text' : 'muted'}>
          {storedKey.expiresAt ? (
            <>
              {expired ? 'Expired' : 'Expires'} <Time iso={storedKey.expiresAt} />
            </>
          ) : (
            'No expiry'
          )}
        </span>
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
              ref={editButton}
              onClick={() => open('edit')}
              aria-disabled={busy !== undefined}
            >
              Edit
            </button>
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
      <div role="cell" className="key-extra">
        <div className="key-models">
          {models.length === 0 ? (
            <span className="muted">Models: listed after the key passes a test.</span>
          ) : (
            <p className="model-list">
              {models.length} {models.length === 1 ? 'model' : 'models'} listed:{' '}
              {models.slice(0, MODELS_SHOWN).map((model, index) => (
                <span key={model}>
                  {index > 0 && ', '}
                  <code>{model}</code>
                </span>
              ))}
              {models.length > MODELS_SHOWN && ` and ${models.length - MODELS_SHOWN} more`}
            </p>
          )}
        </div>
        <UsageChart days={props.usage ?? []} lastDay={new Date().toISOString().slice(0, 10)} />
      </div>
      {panel === 'edit' && (
        <div role="cell" className="key-panel">
          <EditKeyForm option={option} storedKey={storedKey} onClose={(message) => close('edit', message)} />
        </div>
      )}
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
              Remove the {name} key <code>{storedKey.maskedKey}</code>? {removalConsequence(props)}
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

/**
 * What removing the key leads to, by the routing rule: another stored key that works takes over; when
 * none does, the built-in allocation, unless the account turned the built-in fallback off, in which case
 * AI tasks pause. With no key stored at all, routing uses the built-in allocation whatever the setting.
 */
function removalConsequence(props: { option: ProviderOption; onlyKey: boolean; builtInFallback: boolean }) {
  const name = props.option.displayName;
  if (props.onlyKey) {
    return (
      `It is deleted for good, and ${name} falls back to the platform's built-in allocation: with no key ` +
      'left, every AI task runs on the built-in allocation, billed by the platform' +
      (props.builtInFallback ? '.' : ' (the built-in fallback setting applies only while keys are stored).')
    );
  }
  if (props.builtInFallback) {
    return `It is deleted for good, and ${name} falls back to the platform's built-in allocation; AI tasks it serves move to another stored key.`;
  }
  return (
    'It is deleted for good. AI tasks it serves move to your next stored key that works; if none works, ' +
    "AI tasks pause instead of falling back to the platform's built-in allocation, because the built-in " +
    'fallback is off for this account.'
  );
}
