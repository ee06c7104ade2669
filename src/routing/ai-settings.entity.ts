import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import { AiProvider } from '../providers/ai-provider.enum';
import { AiTask } from '../providers/ai-task.enum';

/** The admin's model for one provider and task, where it differs from the adapter's. */
export interface TaskModelChoice {
  provider: AiProvider;
  task: AiTask;
  model: string;
}

const json = {
  to: (value: unknown) => (value === undefined ? undefined : JSON.stringify(value)),
  from: (value: string) => JSON.parse(value) as unknown,
};

/** The admin's routing choices for an account; an account without a row has the defaults. */
@Entity('account_ai_settings')
export class AccountAiSettings {
  @PrimaryColumn({ name: 'account_id', type: 'varchar', length: 64 })
  accountId: string;

  @Column({ name: 'provider_order', type: 'varchar', length: 255, transformer: json })
  providerOrder: AiProvider[];

  @Column({ name: 'built_in_fallback', type: 'boolean', width: 1 })
  builtInFallback: boolean;

  @Column({ name: 'task_models', type: 'text', transformer: json })
  taskModels: TaskModelChoice[];

  @Column({ name: 'updated_by', type: 'varchar', length: 64 })
  updatedBy: string;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt: Date;
}
