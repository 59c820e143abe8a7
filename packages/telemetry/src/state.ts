import type { IncomingMode } from './config.ts';

/**
 * Whether this process records traces: one boolean, read on hot paths (the gateway checks it
 * before touching any header), how it treats an incoming traceparent, and where new traces'
 * ids come from. Set by initTelemetry / the testing helper, nothing else.
 */
let tracing = false;
let incoming: IncomingMode = 'trust';
let roots: NewRoots | undefined;

/** New traces decided before any span exists (the SDK's, see RootTraceparents). */
export interface NewRoots {
  /** The next new trace's `traceparent`, its flag the root sampler's decision. */
  next(): string;
  /** The next root span started takes this `traceparent`'s ids. */
  prime(traceparent: string): void;
}

export function isTracing(): boolean {
  return tracing;
}

/** TRACING_INCOMING of the running configuration. */
export function tracingIncoming(): IncomingMode {
  return incoming;
}

/**
 * A new trace for a request that arrived without one: its `traceparent`, whose flag says
 * whether it is sampled (`isSampledRoot`). Not sampled: send it on, nothing else to do. Sampled:
 * `primeRoot` it and start the root span right away. Undefined when tracing is off.
 */
export function newRootTraceparent(): string | undefined {
  return roots?.next();
}

/** The next root span started (in this synchronous run) carries `traceparent`'s ids. */
export function primeRoot(traceparent: string): void {
  roots?.prime(traceparent);
}

/** Whether a `traceparent` from newRootTraceparent says sampled (its flags are `00` or `01`). */
export function isSampledRoot(traceparent: string): boolean {
  return traceparent.charCodeAt(54) === 49; // "1"
}

export function setTracing(on: boolean, mode: IncomingMode = 'trust', newRoots?: NewRoots): void {
  tracing = on;
  incoming = mode;
  roots = on ? newRoots : undefined;
}
