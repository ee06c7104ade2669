import { IsInt, IsOptional, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, InputType, Int } from 'type-graphql';
import { AiProvider } from '../providers/ai-provider.enum';

// Shape checks only. The key's own rules (trimming, length, prefix, Azure endpoint forms) live with the
// provider adapters, which say exactly what to fix without ever echoing the key.

/** A string field with a length bound, optional unless `required`. The message never quotes the value. */
function TextField(
  name: string,
  max: number,
  options: { required?: boolean; description?: string } = {},
): PropertyDecorator {
  return (target, property) => {
    Field(() => String, { nullable: !options.required, description: options.description })(target, property);
    if (!options.required) IsOptional()(target, property);
    MaxLength(max, {
      message:
        max > 1000 ? `${name} is far too long to be an API key` : `${name} must be at most ${max} characters`,
    })(target, property);
  };
}

const API_KEY_MAX = 4096;

@InputType('AddProviderKeyInput')
export class AddProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @TextField('apiKey', API_KEY_MAX, { required: true })
  apiKey: string;

  @TextField('label', 100)
  label?: string | null;

  @TextField('endpoint', 255, { description: 'AZURE_OPENAI only: https://<resource>.openai.azure.com' })
  endpoint?: string | null;

  @TextField('deployment', 64, { description: 'AZURE_OPENAI only: the deployment to route to.' })
  deployment?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: true,
    description: 'Test the key first; save it only if the test passes.',
  })
  verify?: boolean | null;

  @Field(() => Date, {
    nullable: true,
    description: 'From then on routing skips the key; must lie in the future.',
  })
  expiresAt?: Date | null;
}

@InputType('TestProviderKeyInput')
export class TestProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @TextField('apiKey', API_KEY_MAX, {
    description: 'A candidate key to test; without it the stored key is tested.',
  })
  apiKey?: string | null;

  @TextField('endpoint', 255)
  endpoint?: string | null;

  @TextField('deployment', 64)
  deployment?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description:
      'Also make one minimal billed request (one output token) per model the platform needs: catches an account out of credit. The provider bills it.',
  })
  deep?: boolean | null;
}

@InputType('RotateProviderKeyInput')
export class RotateProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @TextField('apiKey', API_KEY_MAX, { required: true })
  apiKey: string;

  @TextField('endpoint', 255, { description: 'AZURE_OPENAI only; the stored one when omitted.' })
  endpoint?: string | null;

  @TextField('deployment', 64, { description: 'AZURE_OPENAI only; the stored one when omitted.' })
  deployment?: string | null;

  @Field(() => Int, { nullable: true, description: 'When set and no longer current: CONFLICT.' })
  @IsOptional()
  @IsInt()
  @Min(1, { message: 'expectedVersion starts at 1' })
  expectedVersion?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: true,
    description: 'Test the new key first; rotate only if the test passes.',
  })
  verify?: boolean | null;

  @Field(() => Date, {
    nullable: true,
    description: "The new key's expiry; must lie in the future. Omitted: the new key has none.",
  })
  expiresAt?: Date | null;
}

@InputType('UpdateProviderKeyInput', {
  description:
    'Changes what describes the stored key, never the key itself. Omitted fields stay as they are.',
})
export class UpdateProviderKeyInput {
  @Field(() => AiProvider)
  provider: AiProvider;

  @TextField('label', 100, { description: 'null or empty: no label.' })
  label?: string | null;

  @Field(() => Date, {
    nullable: true,
    description: 'From then on routing skips the key; must lie in the future. null: no expiry.',
  })
  expiresAt?: Date | null;
}

@ArgsType()
export class ProviderKeyEventsArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'At most 100.' })
  @IsInt() // its range is the service's rule
  first: number;

  @TextField('after', 100, { description: 'The endCursor of the previous page.' })
  after?: string | null;
}
