import type { EntityManager } from 'typeorm';
import { lockAccount } from '../accounts/account.store';
import { planAllowsByok } from '../accounts/plan.enum';
import { MASK } from '../graphql/masked-key.scalar';
import type { RouteKey } from '../provider-keys/provider-key.store';
import type { PublishWebhook, RouteGuard } from '../webhooks/webhook-events';
import { AiSettingsValues, BuiltIn, servingKey } from './route';
import { RouteStatus } from './route-status.enum';

// ai_route.unavailable: the platform hears when a change leaves an account's AI tasks without a route
// (keys stored, none usable, built-in fallback off), once per transition. The rule is routing's own
// (servingKey decides for every task alike), judged before and after the change inside its transaction
// with the account's row locked, so two changes of one account at once cannot both miss the transition.
// Cooldowns are not reported: they end by themselves within a minute.

export interface RouteGuardDeps {
  keysOf(manager: EntityManager, accountId: string): Promise<RouteKey[]>;
  settingsOf(manager: EntityManager, accountId: string): Promise<AiSettingsValues>;
  builtIn: BuiltIn;
  publish: PublishWebhook;
  now(): Date;
}

export function createRouteGuard(deps: RouteGuardDeps): RouteGuard {
  return async (manager, accountId, actorId, change, before) => {
    const plan = await lockAccount(manager, accountId);
    // Below GROWTH the built-in allocation always serves.
    if (!plan || !planAllowsByok(plan)) return change();
    const serving = async (at: Date) => {
      const keys = await deps.keysOf(manager, accountId);
      const settings = await deps.settingsOf(manager, accountId);
      return servingKey({ plan, keys, settings }, deps.builtIn, at);
    };
    const was = await serving(before ?? deps.now());
    const result = await change();
    if (was.status === RouteStatus.UNAVAILABLE) return result;
    const is = await serving(deps.now());
    if (is.status === RouteStatus.UNAVAILABLE && is.blocked) {
      const { provider, id: keyId, lastFour, health } = is.blocked;
      await deps.publish(manager, 'ai_route.unavailable', {
        accountId,
        provider,
        keyId,
        maskedKey: MASK + lastFour,
        health,
        previousHealth: null,
        actorId,
        reason: `${is.why}.`,
      });
    }
    return result;
  };
}
