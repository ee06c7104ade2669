import { registerEnumType } from 'type-graphql';

/** A user's role in one account. */
export enum Role {
  ADMIN = 'ADMIN',
  MEMBER = 'MEMBER',
}

registerEnumType(Role, { name: 'Role' });
