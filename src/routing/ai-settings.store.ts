import { DataSource, EntityManager } from 'typeorm';
import type { AccountPart, Row } from '../accounts/account-part';
import { lockAccount } from '../accounts/account.store';
import { inTransaction } from '../db/transaction';
import { NO_ROUTE_GUARD, type RouteGuard } from '../webhooks/webhook-events';
import { AiProvider } from '../providers/ai-provider.enum';
import { AccountAiSettings, TaskModelChoice } from './ai-settings.entity';
import { AiSettingsEvent } from './ai-settings-event.entity';
import { AiSettingsValues, DEFAULT_PROVIDER_ORDER, DEFAULT_SETTINGS } from './route';

// Every read and write of the admin's routing choices (account_ai_settings) and their audit trail. An
// account without a row has the defaults.

/** What the membership and resolve statements read of an account for routing: its settings. */
export interface AccountSettings {
  settings: AiSettingsValues;
}

/** Each changed setting, before and after: what the audit row records. */
export type SettingsChanges = Partial<Record<keyof AiSettingsValues, { from: unknown; to: unknown }>>;

/** A provider added since the order was stored goes last, until the admin places it. */
const withEveryProvider = (order: readonly AiProvider[]): AiProvider[] => [
  ...order,
  ...DEFAULT_PROVIDER_ORDER.filter((provider) => !order.includes(provider)),
];

function fromRow(row: Row | undefined): AiSettingsValues {
  if (!row || row.s_provider_order == null) return DEFAULT_SETTINGS;
  return {
    providerOrder: withEveryProvider(JSON.parse(row.s_provider_order as string) as AiProvider[]),
    builtInFallback: Boolean(Number(row.s_built_in_fallback)),
    taskModels: JSON.parse(row.s_task_models as string) as TaskModelChoice[],
  };
}

const valuesOf = (row: AccountAiSettings): AiSettingsValues => ({
  providerOrder: withEveryProvider(row.providerOrder),
  builtInFallback: row.builtInFallback,
  taskModels: row.taskModels,
});

function changesBetween(before: AiSettingsValues, after: AiSettingsValues): SettingsChanges {
  const changes: SettingsChanges = {};
  for (const name of Object.keys(DEFAULT_SETTINGS) as (keyof AiSettingsValues)[]) {
    if (JSON.stringify(before[name]) !== JSON.stringify(after[name])) {
      changes[name] = { from: before[name], to: after[name] };
    }
  }
  return changes;
}

export class AiSettingsStore {
  readonly part: AccountPart<AccountSettings> = {
    join: 'LEFT JOIN account_ai_settings s ON s.account_id = a.id',
    columns: [
      's.provider_order AS s_provider_order, s.built_in_fallback AS s_built_in_fallback, s.task_models AS s_task_models',
    ],
    read: (rows) => ({ settings: fromRow(rows[0]) }),
  };

  constructor(
    private readonly dataSource: DataSource,
    /** Tells the platform when a change (the built-in fallback turned off) leaves no route. */
    private readonly guardRoute: RouteGuard = NO_ROUTE_GUARD,
  ) {}

  /** The account's settings as stored now, in `manager`'s transaction (the route guard). */
  async read(manager: EntityManager, accountId: string): Promise<AiSettingsValues> {
    const row = await manager.findOne(AccountAiSettings, { where: { accountId } });
    return row ? valuesOf(row) : DEFAULT_SETTINGS;
  }

  /**
   * Applies `change` to the settings as stored now and stores the result, with an audit row naming the
   * actor and each changed setting, in one transaction that holds the account's row: two admins saving
   * at once each build on the other's change. Nothing is written when nothing changes. The settings after.
   */
  async update(
    accountId: string,
    change: (current: AiSettingsValues) => AiSettingsValues,
    actorId: string,
  ): Promise<AiSettingsValues> {
    return inTransaction(this.dataSource, (manager) =>
      this.guardRoute(manager, accountId, actorId, async () => {
        await lockAccount(manager, accountId);
        const current = await this.read(manager, accountId);
        const { providerOrder, builtInFallback, taskModels } = change(current);
        const next = { providerOrder: [...providerOrder], builtInFallback, taskModels: [...taskModels] };
        const changes = changesBetween(current, next);
        if (Object.keys(changes).length === 0) return current;
        await manager
          .getRepository(AccountAiSettings)
          .upsert({ accountId, ...next, updatedBy: actorId }, ['accountId']);
        await manager
          .getRepository(AiSettingsEvent)
          .insert({ accountId, actorId, changes: JSON.stringify(changes) });
        return next;
      }),
    );
  }
}
