import { context, trace } from '@opentelemetry/api';
import { exemplarLabels, isTracing } from '../src/index.ts';

/**
 * With tracing off, what the request path still runs of the tracing code, timed in a tight
 * loop (the process has no SDK, like a service with tracing off):
 * - gateway: traceRequest's guard and the exemplar argument to the recorder;
 * - app: the exemplar check, the Strapi client's L1-hit span check and its cache listener's
 *   context lookup.
 * The bench divides these by the service's CPU per request: what "off" costs, in percent.
 */
export function offPathCost(iterations = 2_000_000): { gatewayNs: number; appNs: number } {
  const time = (fn: () => void) => {
    for (let i = 0; i < 100_000; i++) fn(); // warm up
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    return Number(process.hrtime.bigint() - start) / iterations;
  };
  let sink = 0;
  const gatewayNs = time(() => {
    if (isTracing()) sink++; // traceRequest's guard
    if (exemplarLabels(undefined) !== undefined) sink++; // recorder's traceId argument
  });
  const key = Symbol('read');
  const appNs = time(() => {
    if (exemplarLabels() !== undefined) sink++;
    if (trace.getSpan(context.active())?.isRecording()) sink++; // traceL1Hit
    if (context.active().getValue(key) !== undefined) sink++; // cache listener
  });
  if (sink < 0) console.log(sink);
  return { gatewayNs: Math.round(gatewayNs * 10) / 10, appNs: Math.round(appNs * 10) / 10 };
}
