import { IsInt, IsOptional, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, InputType, Int } from 'type-graphql';
import { AiProvider } from '../providers/ai-provider.enum';

// Shape checks only. The key's own rules (trimming, length, prefix, Azure endpoint forms) live with the
// provider adapters, which say exactly what to fix without ever echoing the key.

@InputType('AddProviderKeyInput')
export class AddProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => String)
  @MaxLength(4096, { message: 'apiKey is far too long to be an API key' })
  apiKey: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(100, { message: 'label must be at most 100 characters' })
  label?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(255, { message: 'endpoint must be at most 255 characters' })
  endpoint?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(64, { message: 'deployment must be at most 64 characters' })
  deployment?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  verify?: boolean | null;
}

@InputType('TestProviderKeyInput')
export class TestProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => String, { nullable: true, description: 'A candidate key to test; without it the stored key is tested.' })
  @IsOptional()
  @MaxLength(4096, { message: 'apiKey is far too long to be an API key' })
  apiKey?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(255, { message: 'endpoint must be at most 255 characters' })
  endpoint?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(64, { message: 'deployment must be at most 64 characters' })
  deployment?: string | null;
}

@InputType('RotateProviderKeyInput')
export class RotateProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @Field(() => String)
  @MaxLength(4096, { message: 'apiKey is far too long to be an API key' })
  apiKey: string;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(255, { message: 'endpoint must be at most 255 characters' })
  endpoint?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @MaxLength(64, { message: 'deployment must be at most 64 characters' })
  deployment?: string | null;

  @Field(() => Int, { nullable: true, description: 'When set and no longer current: CONFLICT.' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: 'expectedVersion starts at 1' })
  expectedVersion?: number | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  verify?: boolean | null;
}

@ArgsType()
export class ProviderKeyEventsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'At most 100.' })
  @IsInt() // its range is the service's rule
  first: number;

  @Field(() => String, { nullable: true, description: 'The endCursor of the previous page.' })
  @IsOptional()
  @MaxLength(100, { message: 'after is not a cursor this API returned' })
  after?: string | null;
}
