import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

// The check value of one master key version, recorded the first time a process uses that version
// (see master-key-rotation.ts). HMAC-SHA256 under the master key of a fixed label: it tells whether a
// keyring holds the same key, and nothing about the key itself.

@Entity('master_key_checks')
export class MasterKeyCheck {
  @PrimaryColumn({ name: 'master_key_version', type: 'integer' })
  version: number;

  /** Hex of the HMAC. */
  @Column({ name: 'check_value', type: 'varchar', length: 64 })
  checkValue: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
