import { DataSource } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { Membership } from '../accounts/membership.entity';
import { Config } from '../config';
import { DatabaseSchema, openDatabase } from '../db/data-source';
import { MasterKeyCheck } from '../provider-keys/master-key-check.entity';
import { ProviderKey } from '../provider-keys/provider-key.entity';
import { ProviderKeyEvent } from '../provider-keys/provider-key-event.entity';
import { ProviderKeyUsage } from '../provider-keys/provider-key-usage.entity';
import { AccountAiSettings } from '../routing/ai-settings.entity';
import { AiSettingsEvent } from '../routing/ai-settings-event.entity';
import { WebhookDelivery } from '../webhooks/webhook-delivery.entity';
import { Accounts1732600000000 } from '../../migrations/1732600000000-accounts';
import { ProviderKeys1732600000001 } from '../../migrations/1732600000001-provider-keys';
import { MasterKeyChecks1732600000002 } from '../../migrations/1732600000002-master-key-checks';
import { KeyUseAndHealth1732600000010 } from '../../migrations/1732600000010-key-use-and-health';
import { WebhookDeliveries1732600000200 } from '../../migrations/1732600000200-webhook-deliveries';
import { AiSettings1732600000300 } from '../../migrations/1732600000300-ai-settings';
import { KeyMonitor1732600000400 } from '../../migrations/1732600000400-key-monitor';
import { RateLimits1732600000500 } from '../../migrations/1732600000500-rate-limits';
import { KeyVersionIndex1732600000600 } from '../../migrations/1732600000600-key-version-index';

// Every table of the service: the capabilities' entities and the migrations that create them, in order.

export const SCHEMA: DatabaseSchema = {
  entities: [
    Account,
    Membership,
    ProviderKey,
    ProviderKeyEvent,
    MasterKeyCheck,
    ProviderKeyUsage,
    AccountAiSettings,
    AiSettingsEvent,
    WebhookDelivery,
  ],
  migrations: [
    Accounts1732600000000,
    ProviderKeys1732600000001,
    MasterKeyChecks1732600000002,
    KeyUseAndHealth1732600000010,
    WebhookDeliveries1732600000200,
    AiSettings1732600000300,
    KeyMonitor1732600000400,
    RateLimits1732600000500,
    KeyVersionIndex1732600000600,
  ],
};

/** Connects, creating the database when needed, and applies pending migrations. */
export const openAppDatabase = (database: Config['database']): Promise<DataSource> =>
  openDatabase(database, SCHEMA);
