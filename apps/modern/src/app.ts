import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './deps.ts';
import { memoSerializerCompiler } from './lib/serializer.ts';
import { zodValidatorCompiler } from './lib/validation.ts';
import bodyParser from './plugins/app/body-parser.ts';
import contentEncoding from './plugins/app/content-encoding.ts';
import deps from './plugins/app/deps.ts';
import errors from './plugins/app/errors.ts';
import headers from './plugins/app/headers.ts';
import limits from './plugins/app/limits.ts';
import metrics from './plugins/app/metrics.ts';
import notFound from './plugins/app/not-found.ts';
import validation from './plugins/app/validation.ts';
import swagger from './plugins/external/swagger.ts';
import swaggerUi from './plugins/external/swagger-ui.ts';
import underPressure from './plugins/external/under-pressure.ts';
import aggregate from './routes/aggregate.ts';
import articles from './routes/articles.ts';
import authors from './routes/authors.ts';
import auth from './routes/auth.ts';
import events from './routes/events.ts';
import health from './routes/health.ts';
import me from './routes/me.ts';
import metricsRoute from './routes/metrics.ts';
import openapi from './routes/openapi.ts';
import ready from './routes/ready.ts';
import subscribers from './routes/subscribers.ts';
import strapiWebhook from './routes/webhooks/strapi.ts';

export interface AppOptions {
  deps: AppDeps;
}

/**
 * The application as a plugin: it never listens (server.ts does; tests inject). Order matters
 * only in one place: the app's own decorators and hooks come first, then third-party plugins
 * (swagger must see every route), then the routes, one file per URL.
 */
export default async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  fastify.setValidatorCompiler(zodValidatorCompiler);
  fastify.setSerializerCompiler(memoSerializerCompiler);

  // plugins/app: our own decorators and hooks (fastify-plugin: they apply app-wide)
  await fastify.register(deps, { deps: opts.deps });
  await fastify.register(headers);
  await fastify.register(limits);
  await fastify.register(metrics);
  await fastify.register(errors);
  await fastify.register(validation);
  await fastify.register(bodyParser);
  await fastify.register(contentEncoding);
  await fastify.register(notFound);

  // plugins/external: one file per third-party plugin
  await fastify.register(underPressure);
  await fastify.register(swagger);
  await fastify.register(swaggerUi);

  // routes: mirror the URL tree
  await fastify.register(articles);
  await fastify.register(authors);
  await fastify.register(subscribers);
  await fastify.register(aggregate);
  await fastify.register(auth);
  await fastify.register(me);
  await fastify.register(strapiWebhook);
  await fastify.register(events);
  await fastify.register(health);
  await fastify.register(ready);
  await fastify.register(metricsRoute);
  await fastify.register(openapi);
}
