import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { tooLarge } from './answer.ts';
import type { RequestContext } from './context.ts';

export class BodyLimitError extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

/**
 * The request body on its way upstream: counts bytes against the limit (chunked bodies; a
 * Content-Length over the limit is refused before this) and tees chunks to a shadow mirror.
 */
export class BodyTap extends Transform {
  private seen = 0;
  private readonly limit: number;
  private readonly onChunk: ((chunk: Buffer) => void) | undefined;
  private readonly onEnd: (() => void) | undefined;

  constructor(limit: number, onChunk?: (chunk: Buffer) => void, onEnd?: () => void) {
    super();
    this.limit = limit;
    this.onChunk = onChunk;
    this.onEnd = onEnd;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      cb(new BodyLimitError(`request body over ${this.limit} bytes`));
      return;
    }
    this.onChunk?.(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.onEnd?.();
    cb();
  }
}

/**
 * Puts the tap between the client's body and the upstream request (chunked bodies, and bodies
 * a shadow copies). Over the limit: the upstream request is cut and the client gets a 413.
 */
export function tapBody(req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
  const shadow = ctx.shadow;
  const tap = new BodyTap(
    ctx.route.maxBodyBytes,
    shadow ? (c) => shadow.write(c) : undefined,
    shadow ? () => shadow.end() : undefined,
  );
  tap.on('error', () => {
    ctx.tooLarge = true;
    shadow?.abort('request body over the limit');
    ctx.proxyReq?.destroy();
    // still queued for a connection: nothing was sent, answer now
    if (ctx.queued) {
      ctx.queued.dead = true;
      ctx.queued = null;
      tooLarge(res, ctx);
    }
  });
  req.pipe(tap);
  ctx.tap = tap;
}
