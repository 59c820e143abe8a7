import { webhookTags } from '@pilot/content';
import { isMirrored, LIMITS, routes, type StrapiWebhookPayload, webhookEvents } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../../lib/route-schema.ts';
import { createWebhookVerifier } from '../../lib/webhook-auth.ts';
import { parseJsonBody } from '../../plugins/app/body-parser.ts';

const CONTENT_EVENTS = new Set<string>(webhookEvents);

/**
 * POST /webhooks/strapi. A sender without a configured credential is refused (401) before the
 * body is read. The body is read raw (up to LIMITS.webhookBodyLimitBytes, else 413)
 * so the sender can be verified over the exact bytes before anything is parsed; then it is
 * parsed (400 MALFORMED_JSON) and validated (422). entry.* events drop the affected cache tags
 * on every instance (content.invalidate) and publish a `content.changed` event for GET /events.
 * A mirrored request (x-pilot-shadow) is verified and answered the same way, naming the tags it
 * would drop, but drops none, publishes nothing and does not use up a signed delivery.
 */
const strapiWebhook: FastifyPluginAsyncZod = async (fastify) => {
  const { content, config, events, replayGuard } = fastify.deps;
  const verifier = createWebhookVerifier({
    secret: config.WEBHOOK_SECRET,
    hmacSecret: config.WEBHOOK_HMAC_SECRET,
    replayGuard,
  });

  // encapsulated: only this plugin's route sees the raw-body parser
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: LIMITS.webhookBodyLimitBytes },
    (_request, body, done) => done(null, body),
  );

  fastify.post(
    routes.strapiWebhook.path,
    {
      schema: schemaFor(routes.strapiWebhook),
      bodyLimit: LIMITS.webhookBodyLimitBytes,
      // an anonymous sender is refused before its body is read (no 413 dance, no reset)
      onRequest: (request, _reply, done) => {
        try {
          verifier.precheck(request.headers);
          done();
        } catch (error) {
          done(error as Error);
        }
      },
      preValidation: async (request) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        await verifier.verify(request.headers, raw, { dryRun: isMirrored(request.headers) });
        request.body = parseJsonBody(raw.toString('utf8')) as StrapiWebhookPayload;
      },
    },
    async (request) => {
      const payload = request.body;
      if (!CONTENT_EVENTS.has(payload.event)) return { data: { event: payload.event, invalidated: [] } };
      if (isMirrored(request.headers))
        return { data: { event: payload.event, invalidated: webhookTags(payload) } };
      const invalidated = await content.invalidate(payload);
      try {
        await events.publish({
          event: payload.event,
          model: payload.model ?? null,
          documentId: payload.entry?.documentId ?? null,
          slug: payload.entry?.slug ?? null,
          at: new Date().toISOString(),
        });
      } catch (error) {
        // the caches are already invalidated; a lost notification must not make Strapi retry
        request.log.error({ err: error }, 'webhook: publishing content.changed failed');
      }
      request.log.info({ event: payload.event, invalidated }, 'webhook: cache tags invalidated');
      return { data: { event: payload.event, invalidated } };
    },
  );
};

export default strapiWebhook;
