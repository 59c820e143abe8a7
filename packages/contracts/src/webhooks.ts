import { z } from 'zod';

export const webhookEvents = [
  'entry.create',
  'entry.update',
  'entry.delete',
  'entry.publish',
  'entry.unpublish',
] as const;

/** What Strapi 5 posts to a webhook (fields we use; the rest passes through). */
export const StrapiWebhookPayload = z.looseObject({
  event: z.string().min(1).max(64),
  createdAt: z.string().optional(),
  model: z.string().min(1).max(100).optional(),
  uid: z.string().max(200).optional(),
  entry: z
    .looseObject({
      id: z.union([z.number(), z.string()]).optional(),
      documentId: z.string().max(100).optional(),
      slug: z.string().max(200).optional(),
    })
    .nullable()
    .optional(),
});
export type StrapiWebhookPayload = z.infer<typeof StrapiWebhookPayload>;

export const WebhookResponse = z.object({
  data: z.object({
    event: z.string(),
    invalidated: z.array(z.string()).describe('Cache tags dropped on every instance.'),
  }),
});
export type WebhookResponse = z.infer<typeof WebhookResponse>;

/** The data of one `content.changed` server-sent event on GET /events. */
export const ContentChangedEvent = z.object({
  id: z.string().describe('Monotonic event id; send it back as Last-Event-ID to resume.'),
  event: z.string(),
  model: z.string().nullable(),
  documentId: z.string().nullable(),
  slug: z.string().nullable(),
  at: z.string(),
});
export type ContentChangedEvent = z.infer<typeof ContentChangedEvent>;
