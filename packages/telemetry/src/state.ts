import type { IncomingMode } from './config.ts';

/**
 * Whether this process records traces: one boolean, read on hot paths (the gateway checks it
 * before touching any header), and how it treats an incoming traceparent. Set by
 * initTelemetry / the testing helper, nothing else.
 */
let tracing = false;
let incoming: IncomingMode = 'trust';

export function isTracing(): boolean {
  return tracing;
}

/** TRACING_INCOMING of the running configuration. */
export function tracingIncoming(): IncomingMode {
  return incoming;
}

export function setTracing(on: boolean, mode: IncomingMode = 'trust'): void {
  tracing = on;
  incoming = mode;
}
