import type { Readable, Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ApiError } from '@pilot/contracts';
import type { FastifyInstance, preParsingHookHandler } from 'fastify';
import fp from 'fastify-plugin';

const DECODERS: Record<string, () => Transform> = {
  gzip: createGunzip,
  'x-gzip': createGunzip,
  deflate: createInflate,
  br: createBrotliDecompress,
};

/**
 * Compressed request bodies, accepted like express.json() accepts them (legacy): gzip,
 * deflate and br are inflated before parsing, and the body limit applies to the INFLATED size
 * (Fastify stops reading at the limit: no decompression bomb). Any other encoding is 415; a
 * body that does not inflate is 400.
 */
const inflateBody: preParsingHookHandler = (request, _reply, payload, done) => {
  const header = request.headers['content-encoding'];
  if (header === undefined) return done(null, payload);
  const encoding = header.trim().toLowerCase();
  if (encoding === 'identity') return done(null, payload);
  const decoder = DECODERS[encoding];
  if (!decoder) return done(new ApiError('UNSUPPORTED_MEDIA_TYPE'), payload);
  const inflate = decoder() as Transform & { receivedEncodedLength?: number };
  // Fastify compares Content-Length with the ENCODED bytes it is told about
  inflate.receivedEncodedLength = 0;
  payload.on('data', (chunk: Buffer) => {
    inflate.receivedEncodedLength = (inflate.receivedEncodedLength ?? 0) + chunk.length;
  });
  payload.on('error', (error) => inflate.destroy(error));
  inflate.on('error', (error: Error & { statusCode?: number }) => {
    error.statusCode = 400;
  });
  done(null, (payload as Readable).pipe(inflate));
};

/** Added per route, to the routes that take a body only: GETs and 404s never pay for it. */
export default fp(
  async function contentEncodingPlugin(fastify: FastifyInstance) {
    fastify.addHook('onRoute', (route) => {
      if (!route.schema?.body) return;
      const existing = route.preParsing ? [route.preParsing].flat() : [];
      route.preParsing = [inflateBody, ...existing];
    });
  },
  { name: 'content-encoding' },
);
