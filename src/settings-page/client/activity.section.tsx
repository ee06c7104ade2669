import { useState } from 'react';
import { useQuery } from '@apollo/client/react';
import { ErrorMessages, HealthBadge, Time } from './common';
import { ProviderKeyEventsDocument } from './generated/graphql';
import { ACTIONS } from './labels';
import { displayNameOf, type ProviderOption } from './providers';

// The audit trail (providerKeyEvents), newest first, a page at a time. The key operations refetch its
// first page (their answers do not carry the event they wrote); "Load more" appends the next one. A
// health change shows the health before and after it.

export const ACTIVITY_PAGE_SIZE = 10;

export function ActivitySection({ providers }: { providers: readonly ProviderOption[] }) {
  const { data, error, fetchMore } = useQuery(ProviderKeyEventsDocument, {
    variables: { first: ACTIVITY_PAGE_SIZE },
  });
  const [moreError, setMoreError] = useState<unknown>();
  const [loadingMore, setLoadingMore] = useState(false);
  const connection = data?.providerKeyEvents;

  async function loadMore() {
    if (loadingMore) return;
    setLoadingMore(true);
    setMoreError(undefined);
    try {
      await fetchMore({ variables: { first: ACTIVITY_PAGE_SIZE, after: connection?.pageInfo.endCursor } });
    } catch (failure) {
      setMoreError(failure);
    } finally {
      setLoadingMore(false);
    }
  }

  return (
    <section className="card" aria-labelledby="activity-heading">
      <h2 id="activity-heading">Activity</h2>
      <ErrorMessages error={error} />
      {!connection ? (
        !error && <p className="loading">Loading…</p>
      ) : connection.edges.length === 0 ? (
        <p className="muted">
          Nothing yet: adding, testing, rotating, editing and removing keys shows up here.
        </p>
      ) : (
        <ol className="events">
          {connection.edges.map(({ node }) => (
            <li key={node.id}>
              <span className="event-what">
                <strong>{ACTIONS[node.action]}</strong> {displayNameOf(providers, node.provider)} key
                {node.maskedKey && <code> {node.maskedKey}</code>}
                {node.previousHealth && node.health ? (
                  <span className="health-change">
                    <HealthBadge health={node.previousHealth} />
                    <span aria-hidden="true">→</span>
                    <span className="visually-hidden">to</span>
                    <HealthBadge health={node.health} />
                  </span>
                ) : (
                  node.health && <HealthBadge health={node.health} />
                )}
              </span>
              <span className="muted">
                by {node.actorId} · <Time iso={node.at} />
              </span>
            </li>
          ))}
        </ol>
      )}
      {connection?.pageInfo.hasNextPage && (
        <button type="button" onClick={() => void loadMore()} aria-disabled={loadingMore}>
          Load more
        </button>
      )}
      <ErrorMessages error={moreError} />
    </section>
  );
}
