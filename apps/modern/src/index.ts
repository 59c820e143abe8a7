export { default as app, type AppOptions } from './app.ts';
export { createApp, serverOptions } from './create-app.ts';
export type { AppDeps, AppTuning, UnderPressureTuning } from './deps.ts';
export {
  type ContentChange,
  createMemoryEventsHub,
  type EventListener,
  type EventsHub,
} from './events/hub.ts';
export { createRedisEventsHub, type RedisEventsHub, type RedisEventsHubOptions } from './events/redis-hub.ts';
export {
  createMemoryReplayGuard,
  createRedisReplayGuard,
  type ReplayGuard,
} from './lib/replay-guard.ts';
export { createWebhookVerifier, signWebhook, type WebhookVerifier } from './lib/webhook-auth.ts';
