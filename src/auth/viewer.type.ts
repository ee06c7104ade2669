import { Field, ID, ObjectType } from 'type-graphql';
import { Plan } from '../accounts/plan.enum';
import { Role } from '../accounts/role.enum';

@ObjectType('Viewer', {
  simpleResolvers: true,
  description: 'The signed-in user in the account the request acts in.',
})
export class ViewerType {
  @Field(() => ID)
  userId: string;

  @Field(() => ID)
  accountId: string;

  @Field(() => Role, { description: 'Read from the database on every request, never from the token.' })
  role: Role;

  @Field(() => Plan)
  plan: Plan;
}
