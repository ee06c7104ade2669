import { registerEnumType } from 'type-graphql';

/** Why a task is served the way it is (contract, "Routing"). */
export enum RouteStatus {
  /** The first stored key in the account's order serves. */
  BYOK_KEY = 'BYOK_KEY',
  /** A later key serves, because the earlier ones are unusable. */
  FALLBACK_KEY = 'FALLBACK_KEY',
  /** The platform's allocation serves. */
  BUILT_IN = 'BUILT_IN',
  /** Nothing may serve: keys stored, none usable, and the account forbids the built-in allocation. */
  UNAVAILABLE = 'UNAVAILABLE',
}

registerEnumType(RouteStatus, { name: 'RouteStatus' });
