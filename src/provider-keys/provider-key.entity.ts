import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { AiProvider } from '../providers/ai-provider.enum';
import { KeyHealth } from '../providers/key-health.enum';

// A stored provider key. Deliberately not a GraphQL type: the ciphertext, IV, tag and wrapped data key
// never leave the service; `provider-key.type.ts` maps what a client may see.

/** A list of strings in a text column, as JSON. */
const JSON_LIST = {
  to: (value: string[] | null | undefined) => (value == null ? value : JSON.stringify(value)),
  from: (value: string | null) => (value == null ? null : (JSON.parse(value) as string[])),
};

@Entity('provider_keys')
@Index('UQ_provider_keys_account_provider', ['accountId', 'provider'], { unique: true })
@Index('IDX_provider_keys_next_check', ['nextCheckAt'])
@Index('IDX_provider_keys_expiry', ['expiryNotified', 'expiresAt'])
@Index('IDX_provider_keys_master_key_version', ['masterKeyVersion', 'id'])
export class ProviderKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId: string;

  @Column({ type: 'varchar', length: 32 })
  provider: AiProvider;

  @Column({ type: 'blob' })
  ciphertext: Buffer;

  @Column({ type: 'blob' })
  iv: Buffer;

  @Column({ name: 'auth_tag', type: 'blob' })
  tag: Buffer;

  @Column({ name: 'wrapped_key', type: 'blob' })
  wrappedKey: Buffer;

  @Column({ name: 'master_key_version', type: 'integer' })
  masterKeyVersion: number;

  @Column({ name: 'last_four', type: 'varchar', length: 4 })
  lastFour: string;

  @Column({ type: 'varchar', length: 100, nullable: true })
  label: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  endpoint: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  deployment: string | null;

  @Column({ type: 'varchar', length: 32 })
  health: KeyHealth;

  @Column({ name: 'last_tested_at', type: 'datetime', nullable: true })
  lastTestedAt: Date | null;

  @Column({ name: 'last_test_message', type: 'varchar', length: 500, nullable: true })
  lastTestMessage: string | null;

  @Column({ type: 'integer' })
  version: number;

  /** The last time a pipeline was handed this key, to the minute (written in the background). */
  @Column({ name: 'last_used_at', type: 'datetime', nullable: true })
  lastUsedAt: Date | null;

  /** Routing skips the key until then, after transient failures were reported. */
  @Column({ name: 'cooling_down_until', type: 'datetime', nullable: true })
  coolingDownUntil: Date | null;

  /** Transient failures reported since `transientSince` (three within a minute start a cooldown). */
  @Column({ name: 'transient_failures', type: 'integer', default: 0 })
  transientFailures: number;

  @Column({ name: 'transient_since', type: 'datetime', nullable: true })
  transientSince: Date | null;

  /** Set by the admin: from then on routing skips the key. */
  @Column({ name: 'expires_at', type: 'datetime', nullable: true })
  expiresAt: Date | null;

  /** The model ids the key's last passing test listed (null before one), stored as JSON. */
  @Column({ name: 'available_models', type: 'text', nullable: true, transformer: JSON_LIST })
  availableModels: string[] | null;

  /**
   * When the monitor tests the key next (null: due now, or the monitor was off when it was stored);
   * while a replica holds it, when that claim lapses.
   */
  @Column({ name: 'next_check_at', type: 'datetime', nullable: true })
  nextCheckAt: Date | null;

  /** The monitor replica testing the key now; null when none is. */
  @Column({ name: 'claimed_by', type: 'varchar', length: 64, nullable: true })
  claimedBy: string | null;

  /** The expiry reminders sent for the current expiresAt: 0 none, 1 the 14-day, 2 the 1-day, 3 expired. */
  @Column({ name: 'expiry_notified', type: 'integer', default: 0 })
  expiryNotified: number;

  @Column({ name: 'created_by', type: 'varchar', length: 64 })
  createdBy: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}

/** Every column but the key material: what listing and routing read. */
export const PROVIDER_KEY_PUBLIC_COLUMNS = [
  'id',
  'accountId',
  'provider',
  'lastFour',
  'label',
  'endpoint',
  'deployment',
  'health',
  'lastTestedAt',
  'lastTestMessage',
  'version',
  'lastUsedAt',
  'coolingDownUntil',
  'expiresAt',
  'availableModels',
  'nextCheckAt',
  'createdBy',
  'createdAt',
  'updatedAt',
] as const satisfies readonly (keyof ProviderKey)[];

/** A stored key as listing and routing see it: no key material. */
export type PublicProviderKey = Pick<ProviderKey, (typeof PROVIDER_KEY_PUBLIC_COLUMNS)[number]>;
