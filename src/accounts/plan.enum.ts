import { registerEnumType } from 'type-graphql';

export enum Plan {
  STARTER = 'STARTER',
  GROWTH = 'GROWTH',
  ENTERPRISE = 'ENTERPRISE',
}

export enum Role {
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}

/** BYOK is a Growth feature: GROWTH and every plan above it. */
export const planAllowsByok = (plan: Plan): boolean => plan === Plan.GROWTH || plan === Plan.ENTERPRISE;

registerEnumType(Plan, { name: 'Plan' });
registerEnumType(Role, { name: 'Role' });

export enum BillingMode {
  BYOK = 'BYOK',
  BUILT_IN = 'BUILT_IN',
}

registerEnumType(BillingMode, { name: 'BillingMode' });

/** Who pays for an account's AI right now: its own keys while the plan allows BYOK, else the platform. */
export const billingModeFor = (plan: Plan): BillingMode => (planAllowsByok(plan) ? BillingMode.BYOK : BillingMode.BUILT_IN);
