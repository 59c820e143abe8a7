import type { ServerResponse } from 'node:http';
import { ContentChangedEvent, ErrorEnvelope, HEADERS, isMirrored, LIMITS, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { formatEvent, HEARTBEAT, RETRY_MS } from '../lib/sse.ts';

/**
 * GET /events: server-sent `content.changed` events. On connect it replays the backlog after
 * Last-Event-ID, then streams live events, with a comment heartbeat every eventsHeartbeatMs so
 * proxies keep the connection. When the client goes away its listener and timer are released;
 * when the app closes every open stream is ended so shutdown is not held up. A mirrored request
 * (x-pilot-shadow) gets the same head and backlog, then the stream ends: a mirror holds no
 * connection open and subscribes to nothing.
 */
const events: FastifyPluginAsyncZod = async (fastify) => {
  const { events: hub, tuning, metrics } = fastify.deps;
  const heartbeatMs = tuning.eventsHeartbeatMs ?? LIMITS.eventsHeartbeatMs;
  const open = new Set<ServerResponse>();

  fastify.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  fastify.get(
    routes.events.path,
    {
      schema: {
        summary: routes.events.summary,
        tags: [...routes.events.tags],
        headers: z.looseObject({
          'last-event-id': z.string().optional().describe('Resume after this event id.'),
        }),
        response: {
          200: {
            description:
              'text/event-stream of `event: content.changed` messages whose `data:` is a ContentChangedEvent (JSON), with `: heartbeat` comments.',
            content: { 'text/event-stream': { schema: ContentChangedEvent } },
          },
          503: ErrorEnvelope,
        },
      },
    },
    (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        [HEADERS.requestId]: request.id,
      });
      // A HEAD answer is the head alone: Node drops body writes to it and would never send
      // the head of a response that is not ended.
      if (request.method === 'HEAD') {
        res.end();
        metrics.observe('HEAD', routes.events.path, 200, reply.elapsedTime / 1000);
        return;
      }
      res.write(`retry: ${RETRY_MS}\n\n`);
      if (typeof lastEventId === 'string') {
        for (const event of hub.since(lastEventId)) res.write(formatEvent(event));
      }
      if (isMirrored(request.headers)) {
        res.end();
        metrics.observe('GET', routes.events.path, 200, reply.elapsedTime / 1000);
        return;
      }
      const unsubscribe = hub.subscribe((event) => res.write(formatEvent(event)));
      const heartbeat = setInterval(() => res.write(HEARTBEAT), heartbeatMs);
      open.add(res);
      let closed = false;
      const cleanup = () => {
        if (closed) return;
        closed = true;
        clearInterval(heartbeat);
        unsubscribe();
        open.delete(res);
        metrics.observe('GET', routes.events.path, 200, reply.elapsedTime / 1000);
      };
      res.once('close', cleanup);
      res.once('error', cleanup);
    },
  );
};

export default events;
