import { registerEnumType } from 'type-graphql';

// The platform's AI tasks. Routing decides who serves each one, but the term lives here, beside the
// adapters: each adapter names its model per task, and routing depends on providers/, so defining the
// task in routing/ would make the two folders import each other.

export enum AiTask {
  INTERVIEW_CONVERSATION = 'INTERVIEW_CONVERSATION',
  ANALYSIS = 'ANALYSIS',
  INSIGHT_GENERATION = 'INSIGHT_GENERATION',
}

export const AI_TASKS: readonly AiTask[] = Object.values(AiTask);

registerEnumType(AiTask, { name: 'AiTask' });
