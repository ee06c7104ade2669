import { registerEnumType } from 'type-graphql';
import { Plan, planAllowsByok } from './plan.enum';

/** Who pays for an account's AI: the customer, with its own keys, or the platform's built-in allocation. */
export enum BillingMode {
  BYOK = 'BYOK',
  BUILT_IN = 'BUILT_IN',
}

registerEnumType(BillingMode, { name: 'BillingMode' });

/** Who pays for an account's AI right now: its own keys while the plan allows BYOK, else the platform. */
export const billingModeFor = (plan: Plan): BillingMode =>
  planAllowsByok(plan) ? BillingMode.BYOK : BillingMode.BUILT_IN;
