import type { z } from 'zod';
import { AggregateResponse } from './aggregate.ts';
import { ArticleListResponse, ArticleParams, ArticleResponse, ListArticlesQuery } from './articles.ts';
import { LoginBody, MeResponse, RefreshBody, TokenPair } from './auth.ts';
import { AuthorParams, AuthorResponse } from './authors.ts';
import { ErrorEnvelope } from './errors.ts';
import { HealthResponse, ReadyResponse } from './operations.ts';
import { CreateSubscriberBody, SubscriberResponse } from './subscribers.ts';
import { StrapiWebhookPayload, WebhookResponse } from './webhooks.ts';

export type Service = 'legacy' | 'modern';

export interface RouteContract {
  method: 'GET' | 'POST';
  /** Express/Fastify path syntax (`:slug`). */
  path: string;
  summary: string;
  tags: string[];
  services: readonly Service[];
  /** Needs `Authorization: Bearer <access token>`. */
  auth?: boolean;
  params?: z.ZodType;
  query?: z.ZodType;
  body?: z.ZodType;
  /** Success status → schema; errors are always ErrorEnvelope. */
  responses: Record<number, z.ZodType>;
  /** Error statuses this route documents (all in ErrorEnvelope). */
  errors: number[];
}

const both = ['legacy', 'modern'] as const;

/** Every route of the public API: the single list both apps, OpenAPI and tests iterate. */
export const routes = {
  listArticles: {
    method: 'GET',
    path: '/articles',
    summary: 'List published articles, paged, sorted and optionally searched.',
    tags: ['articles'],
    services: both,
    query: ListArticlesQuery,
    responses: { 200: ArticleListResponse },
    errors: [422, 503, 504],
  },
  getArticle: {
    method: 'GET',
    path: '/articles/:slug',
    summary: 'One published article by slug.',
    tags: ['articles'],
    services: both,
    params: ArticleParams,
    responses: { 200: ArticleResponse },
    errors: [404, 422, 503, 504],
  },
  getAuthor: {
    method: 'GET',
    path: '/authors/:slug',
    summary: "An author by slug with their latest published articles (one query over Strapi's GraphQL API).",
    tags: ['authors'],
    services: both,
    params: AuthorParams,
    responses: { 200: AuthorResponse },
    errors: [404, 422, 503, 504],
  },
  createSubscriber: {
    method: 'POST',
    path: '/subscribers',
    summary: 'Subscribe an email address; a duplicate answers 409.',
    tags: ['subscribers'],
    services: both,
    body: CreateSubscriberBody,
    responses: { 201: SubscriberResponse },
    errors: [400, 409, 413, 415, 422, 503, 504],
  },
  aggregate: {
    method: 'GET',
    path: '/aggregate',
    summary: 'Latest articles plus two HTTP upstreams in one answer.',
    tags: ['aggregate'],
    services: both,
    responses: { 200: AggregateResponse },
    errors: [502, 504],
  },
  login: {
    method: 'POST',
    path: '/auth/login',
    summary: 'Exchange username and password for an access and a refresh token.',
    tags: ['auth'],
    services: both,
    body: LoginBody,
    responses: { 200: TokenPair },
    errors: [400, 401, 413, 415, 422],
  },
  refresh: {
    method: 'POST',
    path: '/auth/refresh',
    summary: 'Rotate a refresh token; reusing one revokes its whole family.',
    tags: ['auth'],
    services: both,
    body: RefreshBody,
    responses: { 200: TokenPair },
    errors: [400, 401, 413, 415, 422],
  },
  me: {
    method: 'GET',
    path: '/me',
    summary: 'The user the access token belongs to.',
    tags: ['auth'],
    services: both,
    auth: true,
    responses: { 200: MeResponse },
    errors: [401],
  },
  strapiWebhook: {
    method: 'POST',
    path: '/webhooks/strapi',
    summary: 'Strapi entry.* webhook: drops the affected cache tags on every instance.',
    tags: ['webhooks'],
    services: ['modern'],
    body: StrapiWebhookPayload,
    responses: { 200: WebhookResponse },
    errors: [400, 401, 413, 415, 422],
  },
  events: {
    method: 'GET',
    path: '/events',
    summary: 'Server-sent events (`content.changed`) with Last-Event-ID resume.',
    tags: ['events'],
    services: ['modern'],
    responses: {},
    errors: [503],
  },
  health: {
    method: 'GET',
    path: '/health',
    summary: 'Liveness.',
    tags: ['operations'],
    services: both,
    responses: { 200: HealthResponse },
    errors: [],
  },
  ready: {
    method: 'GET',
    path: '/ready',
    summary: 'Readiness: Strapi and Redis reachable.',
    tags: ['operations'],
    services: both,
    responses: { 200: ReadyResponse },
    errors: [503],
  },
} as const satisfies Record<string, RouteContract>;

export type RouteName = keyof typeof routes;
export const errorResponseSchema = ErrorEnvelope;
