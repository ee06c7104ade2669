import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { Plan } from './plan.enum';

@Entity('accounts')
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'varchar', length: 16 })
  plan: Plan;

  @CreateDateColumn({ name: 'created_at' })
  createdAt: Date;
}
