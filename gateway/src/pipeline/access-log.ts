import type { Logger } from 'pino';
import type { AccessLogWriter, RequestContext } from './context.ts';

/**
 * The access log: one `request` line per request, on the gateway's logger (pino, buffered
 * writes: see log.ts), at info. A served request's line says who answered and how long it
 * took; the fields that are usually empty (fallback, shadow, error) are written only when set.
 */
export class AccessLog implements AccessLogWriter {
  private readonly logger: Logger;

  constructor(logger: Logger) {
    this.logger = logger;
  }

  served(ctx: RequestContext, path: string | undefined, status: number, ms: number): void {
    if (!this.logger.isLevelEnabled('info')) return;
    const line: Record<string, unknown> = {
      reqId: ctx.requestId,
      method: ctx.method,
      path,
      route: ctx.route.id,
      backend: ctx.backend.name,
      status,
      ms: Math.round(ms * 100) / 100,
    };
    if (ctx.fallbackFrom !== null) {
      line.fallbackFrom = ctx.fallbackFrom;
      line.fallbackReason = ctx.fallbackReason;
    }
    if (ctx.shadow) line.shadow = ctx.route.shadow!.backend;
    if (ctx.errorKind !== null) line.error = ctx.errorKind;
    this.logger.info(line, 'request');
  }

  refused(method: string | undefined, url: string | undefined, status: number, reason: string): void {
    this.logger.info({ method, url, status, rejected: reason }, 'request');
  }
}
