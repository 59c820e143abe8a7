import { z } from 'zod';

export const HealthResponse = z.object({ status: z.literal('ok') });
export const CheckState = z.enum(['up', 'down', 'disabled']);
export const ReadyChecks = z.object({ strapi: CheckState, redis: CheckState });
export type ReadyChecks = z.infer<typeof ReadyChecks>;
/** 200 body of GET /ready; a failing check answers 503 NOT_READY with `details.checks`. */
export const ReadyResponse = z.object({ status: z.literal('ready'), checks: ReadyChecks });
export type ReadyResponse = z.infer<typeof ReadyResponse>;
