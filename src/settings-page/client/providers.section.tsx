import { BILLING } from './labels';
import type { ProviderOption } from './providers';

// What a member sees of the providers: which ones the account brings its own key for, no key details
// (the API answers a member's aiProviders with `key: null`) and no buttons.

export function ProvidersSection({ providers }: { providers: readonly ProviderOption[] }) {
  return (
    <section className="card" aria-labelledby="providers-heading">
      <h2 id="providers-heading">Providers</h2>
      <p className="hint">Only an admin of the account can see and change its keys.</p>
      <ul className="plain-list">
        {providers.map((option) => (
          <li key={option.id}>
            <strong>{option.displayName}</strong>
            <span className="muted">{BILLING[option.billingMode]}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
