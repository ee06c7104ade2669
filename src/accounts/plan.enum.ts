import { registerEnumType } from 'type-graphql';

export enum Plan {
  STARTER = 'STARTER',
  GROWTH = 'GROWTH',
  ENTERPRISE = 'ENTERPRISE',
}

registerEnumType(Plan, { name: 'Plan' });

/** BYOK is a Growth feature: GROWTH and every plan above it. */
export const planAllowsByok = (plan: Plan): boolean => plan === Plan.GROWTH || plan === Plan.ENTERPRISE;
