import type { ContentChangedEvent } from '@pilot/contracts';
import { ContentChangedEvent as ContentChangedEventSchema } from '@pilot/contracts';
import type { Logger } from '@pilot/service-kit';
import { Redis } from 'ioredis';
import { createLocalFanout, type EventsHub } from './hub.ts';

export interface RedisEventsHubOptions {
  url: string;
  /** Namespace of the id counter and the channel (tests use a unique one). */
  prefix?: string;
  backlog?: number;
  logger?: Logger;
}

export interface RedisEventsHub extends EventsHub {
  /** Resolves once the subscription is live: events published after it are received. */
  ready: Promise<void>;
}

/**
 * Hub shared by every modern instance through Redis: ids come from one INCR counter (globally
 * ordered, so Last-Event-ID means the same thing on every instance) and events travel over
 * pub/sub; each instance delivers what it receives, including its own events, to its local
 * subscribers and keeps it in its local backlog.
 */
export function createRedisEventsHub(options: RedisEventsHubOptions): RedisEventsHub {
  const prefix = options.prefix ?? 'pilot:events:';
  const channel = `${prefix}content.changed`;
  const counterKey = `${prefix}seq`;
  const fanout = createLocalFanout(options.backlog);
  const pub = new Redis(options.url, { maxRetriesPerRequest: 2, lazyConnect: false });
  const sub = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: false });
  for (const client of [pub, sub]) {
    client.on('error', (error) => options.logger?.warn({ err: error }, 'events hub: redis error'));
  }
  sub.on('message', (received, message) => {
    if (received !== channel) return;
    try {
      fanout.deliver(ContentChangedEventSchema.parse(JSON.parse(message)));
    } catch (error) {
      options.logger?.warn({ err: error }, 'events hub: dropped a malformed message');
    }
  });
  const ready = sub.subscribe(channel).then(() => undefined);
  ready.catch(() => {});
  return {
    ready,
    async publish(change) {
      const id = await pub.incr(counterKey);
      const event: ContentChangedEvent = { id: String(id), ...change };
      await pub.publish(channel, JSON.stringify(event));
      return event;
    },
    subscribe: fanout.subscribe,
    since: fanout.since,
    listenerCount: fanout.listenerCount,
    async close() {
      fanout.clear();
      await Promise.allSettled([sub.quit(), pub.quit()]);
    },
  };
}
