import { AiSettingsDocument, ProviderKeyEventsDocument } from './generated/graphql';

/**
 * What a change to a stored key makes stale beyond the key itself, which its answer carries: the routes
 * (which key serves, its health) and the audit trail's first page. Refetched, since no answer holds them.
 */
export const AFTER_KEY_CHANGE = [AiSettingsDocument, ProviderKeyEventsDocument];
