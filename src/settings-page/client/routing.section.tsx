import { HealthBadge } from './common';
import type { AiSettingsQuery } from './generated/graphql';
import { BILLING, TASKS } from './labels';
import { displayNameOf, type ProviderOption } from './providers';

// Which provider and model each AI task uses now (aiSettings.routes), for admins and members alike.
// A list, not a table: the rows of the page are the stored keys'. Each entry has room for the route's
// status and reason once the API serves them (AiTaskRoute.status, .reason).

type Route = AiSettingsQuery['aiSettings']['routes'][number];

export function RoutingSection(props: { routes: readonly Route[]; providers: readonly ProviderOption[] }) {
  return (
    <section className="card" aria-labelledby="routing-heading">
      <h2 id="routing-heading">Routing</h2>
      <p className="hint">The provider and model each AI task uses now.</p>
      <ul className="routes">
        {props.routes.map((route) => (
          <li key={route.task} className="route">
            <h3>{TASKS[route.task]}</h3>
            <dl>
              <div>
                <dt>Provider</dt>
                <dd>{displayNameOf(props.providers, route.provider)}</dd>
              </div>
              <div>
                <dt>Model</dt>
                <dd>
                  <code>{route.model}</code>
                </dd>
              </div>
              <div>
                <dt>Billing</dt>
                <dd>{BILLING[route.billingMode]}</dd>
              </div>
              <div>
                <dt>Health</dt>
                <dd>{route.health ? <HealthBadge health={route.health} /> : 'Managed by the platform'}</dd>
              </div>
            </dl>
          </li>
        ))}
      </ul>
    </section>
  );
}
