import { ArrayMaxSize, IsOptional, MaxLength, ValidateNested } from 'class-validator';
import { Field, InputType } from 'type-graphql';
import { AiProvider } from '../providers/ai-provider.enum';
import { AiTask } from '../providers/ai-task.enum';

// Shape checks only; which orders and models are allowed is the service's rule (it says what to fix).

@InputType('TaskModelInput')
export class TaskModelInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => AiTask)
  task: AiTask;

  @Field(() => String, { nullable: true, description: "null: back to the catalog's model." })
  @IsOptional()
  @MaxLength(128, { message: 'model must be at most 128 characters' })
  model?: string | null;
}

@InputType('UpdateAiSettingsInput', { description: 'Omitted fields stay as they are.' })
export class UpdateAiSettingsInput {
  @Field(() => [AiProvider], { nullable: true, description: 'Each of the five providers, exactly once.' })
  @IsOptional()
  providerOrder?: AiProvider[] | null;

  @Field(() => Boolean, { nullable: true })
  builtInFallback?: boolean | null;

  @Field(() => [TaskModelInput], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(100, { message: 'taskModels may hold at most 100 entries' })
  @ValidateNested({ each: true })
  taskModels?: TaskModelInput[] | null;
}
