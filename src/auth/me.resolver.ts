import { Ctx, Query, Resolver } from 'type-graphql';
import { AuthContext, viewerOf } from './viewer';
import { ViewerType } from './viewer.type';

// `me` lives with auth, not accounts: it answers who the viewer is, and accounts (entities and plans)
// sits below auth, so it cannot import the viewer.

@Resolver()
export class MeResolver {
  @Query(() => ViewerType, { description: 'Any member of the account.' })
  me(@Ctx() context: AuthContext): ViewerType {
    const { userId, accountId, role, plan } = viewerOf(context);
    return { userId, accountId, role, plan };
  }
}
