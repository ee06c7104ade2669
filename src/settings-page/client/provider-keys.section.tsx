import { useEffect, useRef, useState } from 'react';
import { AddKeyForm } from './add-key.form';
import type { ProviderKeyFieldsFragment } from './generated/graphql';
import { KeyRow } from './key.row';
import type { ProviderOption } from './providers';
import type { UsageDay } from './usage-chart';

// An admin's keys: one row per stored key (in the dropdown's order), "Add provider key" with its form,
// and the providers without a key with what each would need. The status line says what the last action
// did; after a save or a removal the focus goes back to "Add provider key" (or to the heading).

export function ProviderKeysSection(props: {
  providers: readonly ProviderOption[];
  keys: readonly ProviderKeyFieldsFragment[];
  byokAvailable: boolean;
  builtInFallback: boolean;
  usage: ReadonlyMap<string, readonly UsageDay[]>;
}) {
  const { providers, keys, byokAvailable } = props;
  const [adding, setAdding] = useState(false);
  const [status, setStatus] = useState('');
  const [refocus, setRefocus] = useState(0);
  const addButton = useRef<HTMLButtonElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  const stored = providers.flatMap((option) => {
    const key = keys.find((candidate) => candidate.provider === option.provider);
    return key ? [{ option, key }] : [];
  });
  const missing = providers.filter((option) => !keys.some((key) => key.provider === option.provider));
  const canAdd = byokAvailable && missing.length > 0;

  useEffect(() => {
    if (refocus) (addButton.current ?? heading.current)?.focus();
  }, [refocus]);

  function done(message?: string) {
    setAdding(false);
    if (message) setStatus(message);
    setRefocus((count) => count + 1);
  }

  return (
    <section className="card" aria-labelledby="keys-heading">
      <div className="section-head">
        <h2 id="keys-heading" ref={heading} tabIndex={-1}>
          Connected providers
        </h2>
        {canAdd && (
          <button
            type="button"
            ref={addButton}
            className="primary"
            aria-expanded={adding}
            aria-controls="add-key-form"
            onClick={() => {
              setAdding(true);
              setStatus('');
            }}
          >
            Add provider key
          </button>
        )}
      </div>
      {adding && canAdd && <AddKeyForm providers={missing} onClose={done} />}
      <p className="status" role="status">
        {status}
      </p>
      {stored.length > 0 ? (
        <div role="table" aria-label="Connected providers" className="keys">
          {stored.map(({ option, key }) => (
            <KeyRow
              key={key.id}
              option={option}
              storedKey={key}
              byokAvailable={byokAvailable}
              onlyKey={stored.length === 1}
              builtInFallback={props.builtInFallback}
              usage={props.usage.get(key.id)}
              announce={setStatus}
              onRemoved={done}
            />
          ))}
        </div>
      ) : (
        <p className="muted">No key stored: every AI task uses the platform&apos;s built-in allocation.</p>
      )}
      {missing.length > 0 && (
        <>
          <h3>Not connected</h3>
          <ul className="plain-list">
            {missing.map((option) => (
              <li key={option.id}>
                <strong>{option.displayName}</strong>
                <span className="muted">
                  {option.keyHint}
                  {option.requiresEndpoint && '; also needs the resource endpoint and a deployment name'}
                </span>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
