// Boots the whole system in this process for end-to-end tests: the REAL Strapi (child process),
// legacy and modern on ephemeral ports sharing one Redis prefix, and the gateway with the
// default route table in front of them. Strapi's webhook reaches modern through a relay,
// because modern's port is only known after Strapi has booted.
import { join } from 'node:path';
import { type CmsInstance, startCms } from '@pilot/cms/testing';
import { createGateway, type GatewayHandle } from '@pilot/gateway';
import { createApp as createLegacy, listen } from '@pilot/legacy';
import { createApp as createModern } from '@pilot/modern';
import { createLogger, createServiceDeps, loadServiceConfig, type ServiceDeps } from '@pilot/service-kit';
import type { UpstreamEvent } from '@pilot/strapi-client';
import { startDelayedUpstream, startTestServer, type TestServer, useTestRedis } from '@pilot/test-kit';

export interface System {
  cms: CmsInstance;
  legacyUrl: string;
  modernUrl: string;
  gatewayUrl: string;
  adminUrl: string;
  deps: { legacy: ServiceDeps; modern: ServiceDeps };
  /** Strapi GET calls made by each service's read client since start. */
  upstream: { legacy: UpstreamEvent[]; modern: UpstreamEvent[] };
  webhooksRelayed: () => number;
  stop(): Promise<void>;
}

export interface SystemOptions {
  /** The gateway's route table (default: gateway/routes.yaml, the shipped one). */
  routesFile?: string;
}

export async function startSystem(options: SystemOptions = {}): Promise<System> {
  const stops: Array<() => Promise<unknown>> = [];
  const stop = async () => {
    for (const fn of stops.reverse()) await fn().catch(() => undefined);
  };
  try {
    let modernUrl = '';
    let relayed = 0;
    const relay: TestServer = await startTestServer(async (req, res) => {
      relayed += 1;
      const answer = await fetch(`${modernUrl}${req.url}`, {
        method: req.method,
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k)),
        ) as Record<string, string>,
        body: req.body,
      });
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(await answer.text());
    });
    stops.push(() => relay.close());

    const cms = await startCms({ seedArticles: 60, webhookUrl: `${relay.url}/webhooks/strapi` });
    stops.push(() => cms.stop());
    const weather = await startDelayedUpstream('weather');
    const quote = await startDelayedUpstream('quote');
    stops.push(
      () => weather.close(),
      () => quote.close(),
    );

    const redis = await useTestRedis('e2e');
    stops.push(() => redis.cleanup());

    const env = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      PORT: '0',
      STRAPI_URL: cms.url,
      STRAPI_READ_TOKEN: cms.readToken,
      STRAPI_WRITE_TOKEN: cms.writeToken,
      REDIS_URL: redis.url,
      WEBHOOK_SECRET: cms.webhookSecret,
      AGGREGATE_WEATHER_URL: weather.url,
      AGGREGATE_QUOTE_URL: quote.url,
    };
    const config = loadServiceConfig(env, { port: 0 });
    const upstream = { legacy: [] as UpstreamEvent[], modern: [] as UpstreamEvent[] };

    const legacyLogger = createLogger({ service: 'legacy', level: 'warn' });
    const legacyDeps = createServiceDeps(config, legacyLogger, {
      service: 'legacy',
      redisPrefix: redis.prefix,
    });
    stops.push(() => legacyDeps.close());
    legacyDeps.strapi.read.on('upstream', (e) => upstream.legacy.push(e));
    const legacy = await listen(
      createLegacy({
        config,
        logger: legacyLogger,
        content: legacyDeps.content,
        auth: legacyDeps.auth,
        metrics: legacyDeps.metrics,
      }),
      { host: '127.0.0.1', port: 0 },
    );
    stops.push(() => legacy.close(2_000));

    const modernLogger = createLogger({ service: 'modern', level: 'warn' });
    const modernDeps = createServiceDeps(config, modernLogger, {
      service: 'modern',
      redisPrefix: redis.prefix,
    });
    stops.push(() => modernDeps.close());
    modernDeps.strapi.read.on('upstream', (e) => upstream.modern.push(e));
    const modern = createModern({
      config,
      logger: modernLogger,
      content: modernDeps.content,
      auth: modernDeps.auth,
      metrics: modernDeps.metrics,
      // Load shedding answers 503 when the event loop lags, which a loaded CI box does during a
      // 1,000-request burst; these suites test behaviour, not shedding (modern's own tests do).
      tuning: { eventsHeartbeatMs: 1_000, underPressure: false },
    });
    modernUrl = await modern.listen({ host: '127.0.0.1', port: 0 });
    stops.push(() => modern.close());

    const gateway: GatewayHandle = await createGateway({
      routesFile: options.routesFile ?? join(import.meta.dirname, '../../../gateway/routes.yaml'),
      env: { LEGACY_URL: legacy.url, MODERN_URL: modernUrl },
      host: '127.0.0.1',
      port: 0,
      adminPort: 0,
      adminToken: 'e2e-admin-token',
      watch: false,
      writeBack: false,
      accessLog: false,
      logLevel: 'warn',
    });
    await gateway.listen();
    stops.push(() => gateway.close());

    return {
      cms,
      legacyUrl: legacy.url,
      modernUrl,
      gatewayUrl: gateway.url,
      adminUrl: gateway.adminUrl,
      deps: { legacy: legacyDeps, modern: modernDeps },
      upstream,
      webhooksRelayed: () => relayed,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
