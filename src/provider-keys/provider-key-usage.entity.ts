import { Column, Entity, PrimaryColumn } from 'typeorm';

/** How often a key was handed to a pipeline, and how often a pipeline reported it failing, per UTC day. */
@Entity('provider_key_usage')
export class ProviderKeyUsage {
  @PrimaryColumn({ name: 'key_id', type: 'varchar', length: 36 })
  keyId: string;

  /** YYYY-MM-DD, UTC. */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  day: string;

  @Column({ name: 'account_id', type: 'varchar', length: 64 })
  accountId: string;

  @Column({ type: 'integer', default: 0 })
  resolves: number;

  @Column({ type: 'integer', default: 0 })
  failures: number;
}
