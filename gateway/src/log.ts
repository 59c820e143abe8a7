import pino, { type Logger } from 'pino';

/** Structured JSON logs (pino). The access log is one `request` line per request. */
export function createLogger(level = 'info', options: { sync?: boolean } = {}): Logger {
  return pino(
    { level, base: { service: 'gateway' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: options.sync ?? false }),
  );
}
