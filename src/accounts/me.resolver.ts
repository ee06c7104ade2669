import { Ctx, Query, Resolver } from 'type-graphql';
import { RequestContext, viewerOf } from '../graphql/context';
import { ViewerType } from './viewer.type';

@Resolver()
export class MeResolver {
  @Query(() => ViewerType, { description: 'Any member of the account.' })
  me(@Ctx() context: RequestContext): ViewerType {
    return viewerOf(context);
  }
}
