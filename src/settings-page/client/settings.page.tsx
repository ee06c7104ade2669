import { useQuery } from '@apollo/client/react';
import { ActivitySection } from './activity.section';
import { ErrorMessages } from './common';
import {
  AiProvidersDocument,
  AiSettingsDocument,
  ProviderKeysDocument,
  ProviderKeyUsageDocument,
  type MeQuery,
} from './generated/graphql';
import { PLANS, ROLES } from './labels';
import { ProvidersSection } from './providers.section';
import { ProviderKeysSection } from './provider-keys.section';
import { RoutingSection } from './routing.section';
import { USAGE_DAYS } from './usage-chart';

// The page once signed in. An admin manages the keys and reads the audit trail; a member sees the
// providers and the routes only (the API gives members no key details, and the page asks for none).
// Everything is shown at once when the first answers are in, so nothing moves as they arrive.

export function SettingsPage({ me, onSignOut }: { me: MeQuery['me']; onSignOut: () => void }) {
  const admin = me.role === 'ADMIN';
  const providers = useQuery(AiProvidersDocument);
  const settings = useQuery(AiSettingsDocument);
  const keys = useQuery(ProviderKeysDocument, { skip: !admin });
  const usage = useQuery(ProviderKeyUsageDocument, { skip: !admin, variables: { days: USAGE_DAYS } });
  const errors = [providers.error, settings.error, keys.error, usage.error].filter(Boolean);
  const loaded =
    providers.data && settings.data && (!admin || (keys.data && usage.data))
      ? {
          providers: providers.data.aiProviders,
          settings: settings.data.aiSettings,
          keys: keys.data?.providerKeys ?? [],
          usage: new Map(usage.data?.providerKeys.map((key) => [key.id, key.usage]) ?? []),
        }
      : undefined;

  return (
    <div className="page">
      <header className="topbar">
        <span className="product">Account settings</span>
        <span className="who">
          {me.userId} · {ROLES[me.role]} · {me.accountId} · {PLANS[me.plan]} plan
        </span>
        <button type="button" className="link" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main className="content">
        <h1>AI Provider Keys</h1>
        {errors.map((error, index) => (
          <ErrorMessages key={index} error={error} />
        ))}
        {loaded ? (
          <>
            {!loaded.settings.byokAvailable && (
              <p className="notice">
                Bringing your own AI provider key needs the Growth plan or above. This account is on the{' '}
                {PLANS[loaded.settings.plan]} plan, so every AI task uses the platform&apos;s built-in
                allocation.
                {loaded.keys.length > 0 &&
                  ' Stored keys stay, unused, until the plan allows BYOK again; you can still remove them.'}
              </p>
            )}
            {admin ? (
              <ProviderKeysSection
                providers={loaded.providers}
                keys={loaded.keys}
                byokAvailable={loaded.settings.byokAvailable}
                builtInFallback={loaded.settings.builtInFallback}
                usage={loaded.usage}
              />
            ) : (
              <ProvidersSection providers={loaded.providers} />
            )}
            <RoutingSection
              settings={loaded.settings}
              providers={loaded.providers}
              keys={loaded.keys}
              admin={admin}
            />
            {admin && <ActivitySection providers={loaded.providers} />}
          </>
        ) : (
          !errors.length && (
            <p className="loading" role="status">
              Loading…
            </p>
          )
        )}
      </main>
    </div>
  );
}
