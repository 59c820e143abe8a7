import { z } from 'zod';

export const CreateSubscriberBody = z
  .object({
    email: z.email().max(254).toLowerCase(),
    name: z.string().trim().min(1).max(100).optional(),
  })
  .strict();
export type CreateSubscriberBody = z.infer<typeof CreateSubscriberBody>;

export const Subscriber = z.object({
  id: z.string().describe('Strapi documentId.'),
  email: z.string(),
  name: z.string().nullable(),
  createdAt: z.string(),
});
export type Subscriber = z.infer<typeof Subscriber>;

export const SubscriberResponse = z.object({ data: Subscriber });
export type SubscriberResponse = z.infer<typeof SubscriberResponse>;
