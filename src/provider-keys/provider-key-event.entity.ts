import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { AiProvider } from '../providers/ai-provider.enum';
import { KeyHealth } from '../providers/key-health.enum';

export enum ProviderKeyAction {
  ADDED = 'ADDED',
  TESTED = 'TESTED',
  ROTATED = 'ROTATED',
  REMOVED = 'REMOVED',
  /** The health changed outside a test an admin ran: a pipeline's report, or the monitor. */
  HEALTH_CHANGED = 'HEALTH_CHANGED',
  /** The admin changed the label or the expiry (never the key: that is a rotation). */
  UPDATED = 'UPDATED',
}

/** The audit trail: who did what to which provider's key, and when. Never key material beyond the last four. */
@Entity('provider_key_events')
@Index('IDX_provider_key_events_account', ['accountId', 'id'])
export class ProviderKeyEvent {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId: string;

  @Column({ type: 'varchar', length: 32 })
  provider: AiProvider;

  @Column({ type: 'varchar', length: 16 })
  action: ProviderKeyAction;

  @Column({ name: 'actor_id', type: 'varchar', length: 64 })
  actorId: string;

  @Column({ name: 'last_four', type: 'varchar', length: 4, nullable: true })
  lastFour: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  health: KeyHealth | null;

  /** HEALTH_CHANGED: the health before the change. */
  @Column({ name: 'previous_health', type: 'varchar', length: 32, nullable: true })
  previousHealth: KeyHealth | null;

  @CreateDateColumn({ name: 'at' })
  at: Date;
}
