import { z } from 'zod';
import { ArticleSummary } from './articles.ts';

/** The three parts of GET /aggregate, in the order legacy awaits them. */
export const AggregatePart = z.enum(['articles', 'weather', 'quote']);
export type AggregatePart = z.infer<typeof AggregatePart>;
export const aggregateParts = AggregatePart.options;

export const AggregateResponse = z.object({
  data: z.object({
    articles: z.array(ArticleSummary).nullable(),
    weather: z.unknown().nullable().describe('JSON from the weather upstream, as it answered.'),
    quote: z.unknown().nullable().describe('JSON from the quote upstream, as it answered.'),
  }),
  meta: z.object({
    partial: z.boolean().describe('True when at least one part is missing (its value is null).'),
    missing: z.array(AggregatePart).describe('Parts that failed or timed out.'),
  }),
});
export type AggregateResponse = z.infer<typeof AggregateResponse>;
