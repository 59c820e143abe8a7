/**
 * Whether this process records traces: one boolean, read on hot paths (the gateway checks it
 * before touching any header). Set by initTelemetry / the testing helper, nothing else.
 */
let tracing = false;

export function isTracing(): boolean {
  return tracing;
}

export function setTracing(on: boolean): void {
  tracing = on;
}
