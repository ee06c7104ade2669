import { useEffect, useState, type FormEvent } from 'react';
import { useMutation } from '@apollo/client/react';
import { ErrorMessages } from './common';
import {
  UpdateAiSettingsDocument,
  type AiProvider,
  type AiSettingsFieldsFragment,
  type AiTask,
  type ProviderKeyFieldsFragment,
  type TaskModelInput,
} from './generated/graphql';
import { TASKS } from './labels';
import { displayNameOf, type ProviderOption } from './providers';

// An admin's routing choices: the order stored keys are tried in (move up / move down), whether the
// built-in allocation may step in when no stored key works, and the model of each task on the key that
// serves it (among the models that key lists, or the catalog's default). Changes are a draft until
// "Save routing", which sends only what changed (updateAiSettings); its answer is the whole AiSettings,
// which the cache holds as one entity, so the routes above show the result without asking again.
//
// The API does not name the catalog's model of a task; the page knows it from a route that serves the
// catalog's model (no choice stored) and remembers it for the rest of the session.

type Draft = {
  order?: readonly AiProvider[];
  fallback?: boolean;
  /** provider/task -> model id, '' for the catalog's default */
  models: Readonly<Record<string, string>>;
};

const pair = (provider: AiProvider, task: AiTask) => `${provider}/${task}`;

export function RoutingChoicesForm(props: {
  settings: AiSettingsFieldsFragment;
  providers: readonly ProviderOption[];
  keys: readonly ProviderKeyFieldsFragment[];
}) {
  const { settings, providers, keys } = props;
  const [draft, setDraft] = useState<Draft>({ models: {} });
  const [status, setStatus] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [moved, setMoved] = useState<string>();
  const [defaults, setDefaults] = useState<ReadonlyMap<string, string>>(new Map());
  const [updateSettings] = useMutation(UpdateAiSettingsDocument);

  const order = draft.order ?? settings.providerOrder;
  const fallback = draft.fallback ?? settings.builtInFallback;
  const chosen = (provider: AiProvider, task: AiTask) =>
    settings.taskModels.find((entry) => entry.provider === provider && entry.task === task)?.model ?? '';

  // The tasks a stored key serves, whose model the admin may choose (Azure OpenAI: the deployment).
  const choosable = settings.routes.flatMap((route) => {
    const key = keys.find((candidate) => candidate.id === route.keyId);
    return key && key.provider !== 'AZURE_OPENAI' ? [{ task: route.task, key, model: route.model }] : [];
  });
  // A route without a stored choice serves the catalog's model: remembered (state adjusted while
  // rendering, as React allows for what derives from props) so the default keeps its name once changed.
  const seen = choosable.filter(({ task, key }) => !chosen(key.provider, task));
  if (seen.some(({ task, key, model }) => defaults.get(pair(key.provider, task)) !== model)) {
    const next = new Map(defaults);
    for (const { task, key, model } of seen) next.set(pair(key.provider, task), model);
    setDefaults(next);
  }

  useEffect(() => {
    if (moved) document.getElementById(moved)?.focus();
  }, [moved, order]);

  function change(next: Partial<Draft>) {
    setDraft((current) => ({ ...current, ...next }));
    setStatus('');
    setError(undefined);
  }

  function move(provider: AiProvider, by: -1 | 1) {
    const from = order.indexOf(provider);
    const to = from + by;
    if (to < 0 || to >= order.length) return;
    const next = [...order];
    [next[from], next[to]] = [next[to], next[from]];
    change({ order: next });
    setMoved(`move-${provider}-${by < 0 ? 'up' : 'down'}`);
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (busy) return;
    const orderChanged = order.join() !== settings.providerOrder.join();
    const taskModels: TaskModelInput[] = choosable.flatMap(({ task, key }) => {
      const value = draft.models[pair(key.provider, task)];
      return value === undefined || value === chosen(key.provider, task)
        ? []
        : [{ provider: key.provider, task, model: value || null }];
    });
    const input = {
      ...(orderChanged ? { providerOrder: [...order] } : {}),
      ...(fallback !== settings.builtInFallback ? { builtInFallback: fallback } : {}),
      ...(taskModels.length ? { taskModels } : {}),
    };
    if (!Object.keys(input).length) {
      setStatus('Nothing to save: no routing choice changed.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await updateSettings({ variables: { input } });
      setDraft({ models: {} });
      setStatus('Routing saved.');
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="routing-choices"
      aria-label="Routing choices"
      noValidate
      onSubmit={(event) => void save(event)}
    >
      {/* No other heading says "Routing": browser tests find the region's by that name. */}
      <h3>Your choices</h3>
      <fieldset>
        <legend>Provider order</legend>
        <p className="hint">Stored keys are tried in this order; the first one that works serves.</p>
        <ol className="provider-order">
          {order.map((provider, index) => {
            const name = displayNameOf(providers, provider);
            const stored = keys.some((key) => key.provider === provider);
            return (
              <li key={provider}>
                <span>
                  {index + 1}. <strong>{name}</strong>{' '}
                  <span className="muted">{stored ? 'key stored' : 'no key'}</span>
                </span>
                <span className="actions">
                  <button
                    type="button"
                    id={`move-${provider}-up`}
                    aria-label={`Move ${name} up`}
                    aria-disabled={index === 0}
                    onClick={() => move(provider, -1)}
                  >
                    ↑ Up
                  </button>
                  <button
                    type="button"
                    id={`move-${provider}-down`}
                    aria-label={`Move ${name} down`}
                    aria-disabled={index === order.length - 1}
                    onClick={() => move(provider, 1)}
                  >
                    ↓ Down
                  </button>
                </span>
              </li>
            );
          })}
        </ol>
      </fieldset>

      <div className="field checkbox-field">
        <input
          id="builtin-fallback"
          type="checkbox"
          checked={fallback}
          onChange={(event) => change({ fallback: event.target.checked })}
          aria-describedby="builtin-fallback-hint"
        />
        <label htmlFor="builtin-fallback">Built-in fallback</label>
        <p id="builtin-fallback-hint" className="hint">
          {fallback
            ? "On: when none of your stored keys works, AI tasks run on the platform's built-in allocation, billed by the platform."
            : "Off: when none of your stored keys works, AI tasks pause instead of running on the platform's built-in allocation (for accounts whose data-residency or contract terms forbid it). With no key stored at all, the built-in allocation still serves."}
        </p>
      </div>

      <fieldset>
        <legend>Model per task</legend>
        {choosable.length === 0 ? (
          <p className="hint">
            A model can be chosen for a task that one of your stored keys serves (Azure OpenAI always uses the
            key&apos;s deployment).
          </p>
        ) : (
          choosable.map(({ task, key }) => {
            const id = `model-${task.toLowerCase()}`;
            const current = chosen(key.provider, task);
            const value = draft.models[pair(key.provider, task)] ?? current;
            const catalog = defaults.get(pair(key.provider, task));
            const listed = key.availableModels.filter((model) => model !== catalog);
            if (current && !listed.includes(current)) listed.unshift(current);
            return (
              <div className="field" key={task}>
                <label htmlFor={id}>Model for {TASKS[task]}</label>
                <select
                  id={id}
                  value={value}
                  aria-describedby={`${id}-hint`}
                  onChange={(event) =>
                    change({ models: { ...draft.models, [pair(key.provider, task)]: event.target.value } })
                  }
                >
                  <option value="">{catalog ? `${catalog} (default)` : 'The default model'}</option>
                  {listed.map((model) => (
                    <option key={model} value={model}>
                      {model}
                    </option>
                  ))}
                </select>
                <p id={`${id}-hint`} className="hint">
                  On your {displayNameOf(providers, key.provider)} key
                  {key.availableModels.length === 0 && ': test the key to choose among the models it lists'}.
                </p>
              </div>
            );
          })
        )}
      </fieldset>

      <div className="actions">
        <button type="submit" className="primary" aria-disabled={busy}>
          Save routing
        </button>
      </div>
      <div className="routing-outcome" aria-live="polite">
        {busy && <p className="muted">Saving…</p>}
        <ErrorMessages error={error} />
        <p role="status" className="status">
          {status}
        </p>
      </div>
    </form>
  );
}
