export { createApp } from './app.ts';
export type { AppDeps } from './deps.ts';
export { type ListenOptions, listen, type RunningServer } from './http-server.ts';
export { envelopeFor } from './middleware/errors.ts';
export { UNMATCHED_ROUTE } from './middleware/metrics.ts';
