import underPressure from '@fastify/under-pressure';
import { ApiError } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Production thresholds: shed when the event loop lags (mean delay over a sample above 1 s),
 * i.e. when latency is already running away. Not on event-loop utilisation: a busy but
 * healthy instance sits near 100% and should keep serving. Tests pass tighter ones.
 */
export const UNDER_PRESSURE_DEFAULTS = {
  maxEventLoopDelay: 1_000,
  retryAfter: 10,
  sampleInterval: 1_000,
};

/**
 * Load shedding: while the event loop lags (or heap/RSS exceed their caps) every request is
 * answered 503 OVERLOADED with Retry-After, in the contract envelope. Operations routes
 * (/health, /metrics) opt out through `config.pressureHandler` so monitoring keeps working.
 */
export default fp(
  async function underPressurePlugin(fastify: FastifyInstance) {
    const tuning = fastify.deps.tuning.underPressure;
    if (tuning === false) return;
    const options = { ...UNDER_PRESSURE_DEFAULTS, ...tuning };
    await fastify.register(underPressure, {
      ...options,
      // a rejected promise stops the request: the error handler answers the envelope
      pressureHandler: async (_request, reply) => {
        reply.header('retry-after', String(options.retryAfter));
        throw new ApiError('OVERLOADED');
      },
    });
  },
  { name: 'under-pressure', dependencies: ['deps'] },
);

/** Route config that exempts a route from load shedding. */
export const NEVER_SHED = { pressureHandler: () => undefined };
