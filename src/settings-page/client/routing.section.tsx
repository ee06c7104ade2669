import { HealthBadge } from './common';
import type { AiSettingsFieldsFragment, ProviderKeyFieldsFragment } from './generated/graphql';
import { BILLING, ROUTE_STATUS, TASKS } from './labels';
import { displayNameOf, type ProviderOption } from './providers';
import { RoutingChoicesForm } from './routing-choices.form';

// Which provider and model each AI task uses now (aiSettings.routes) and why (status, reason), for
// admins and members alike; a paused task (UNAVAILABLE) stands out. Below it, for an admin on a plan
// that allows BYOK, the choices that decide it (provider order, built-in fallback, model per task).
// A list, not a table: the rows of the page are the stored keys'.

export function RoutingSection(props: {
  settings: AiSettingsFieldsFragment;
  providers: readonly ProviderOption[];
  keys: readonly ProviderKeyFieldsFragment[];
  admin: boolean;
}) {
  const { settings, providers } = props;
  return (
    <section className="card" aria-labelledby="routing-heading">
      <h2 id="routing-heading">Routing</h2>
      <p className="hint">The provider and model each AI task uses now, and why.</p>
      <ul className="routes">
        {settings.routes.map((route) => {
          const status = ROUTE_STATUS[route.status];
          return (
            <li
              key={route.task}
              className={`route${route.status === 'UNAVAILABLE' ? ' route-unavailable' : ''}`}
            >
              <h3>{TASKS[route.task]}</h3>
              <dl>
                <div>
                  <dt>Provider</dt>
                  <dd>{displayNameOf(providers, route.provider)}</dd>
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
                <div>
                  <dt>Status</dt>
                  <dd>
                    <span className={`badge badge-${status.tone}`}>{status.label}</span>
                  </dd>
                </div>
              </dl>
              <p className="route-reason">{route.reason}</p>
            </li>
          );
        })}
      </ul>
      {props.admin && settings.byokAvailable && (
        <RoutingChoicesForm settings={settings} providers={providers} keys={props.keys} />
      )}
    </section>
  );
}
