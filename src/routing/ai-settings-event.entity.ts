import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The audit trail of the routing choices: who changed what, and when. Never key material. */
@Entity('ai_settings_events')
@Index('IDX_ai_settings_events_account', ['accountId', 'id'])
export class AiSettingsEvent {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId: string;

  @Column({ name: 'actor_id', type: 'varchar', length: 64 })
  actorId: string;

  /** JSON: each changed setting with its value before and after. */
  @Column({ type: 'text' })
  changes: string;

  @CreateDateColumn({ name: 'at' })
  at: Date;
}
