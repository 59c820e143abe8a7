import type { Redis, RedisOptions } from 'ioredis';

/**
 * Redis connections a request must never wait on (the cache, sessions): while Redis is away a
 * command fails at once, and the connection comes back by itself.
 *
 * - `enableOfflineQueue: false`: while disconnected or reconnecting, commands are refused
 *   immediately instead of queued until Redis returns (ioredis' default queues them, which is
 *   what made a stopped Redis cost every request seconds).
 * - `maxRetriesPerRequest: 1`, `commandTimeout`: a command on a live connection that gets no
 *   answer fails after `commandTimeout`.
 * - Reconnects forever, backing off to 2 s.
 *
 * A Redis process that is stopped (SIGSTOP, a frozen VM, a full network buffer) keeps its TCP
 * connection open: ioredis stays `ready` and every command would wait for its timeout. See
 * watchForHang.
 */
/** Reconnect forever, backing off to 2 s: Redis coming back must need no restart of ours. */
export const reconnectBackoff = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

export function failFastRedisOptions(commandTimeoutMs: number, name: string): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
    retryStrategy: reconnectBackoff,
    connectionName: name,
  };
}

export interface HangWatch {
  /** A command just timed out: check now instead of at the next tick. */
  suspect(): void;
  stop(): void;
}

export interface HangWatchOptions {
  /** How often to PING a ready connection (default 1000 ms). */
  intervalMs?: number;
  /** No PONG within this → hung (default 500 ms). */
  timeoutMs?: number;
  onHang?: (detail: string) => void;
}

/**
 * Notices a Redis that is connected but does not answer: PINGs a ready connection every
 * `intervalMs`; no answer within `timeoutMs` drops the connection. ioredis then reconnects by
 * itself; against a stopped Redis the new connection hangs in its ready check, so the client is
 * not `ready` and (with failFastRedisOptions) every command fails at once, until Redis answers
 * the ready check and the client is `ready` again.
 */
export function watchForHang(client: Redis, options: HangWatchOptions = {}): HangWatch {
  const intervalMs = options.intervalMs ?? 1_000;
  const timeoutMs = options.timeoutMs ?? 500;
  let pinging = false;
  const check = () => {
    if (pinging || client.status !== 'ready') return;
    pinging = true;
    let settled = false;
    const settle = (hung: boolean, detail: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      pinging = false;
      if (hung && client.status === 'ready') {
        options.onHang?.(detail);
        client.disconnect(true);
      }
    };
    const timer = setTimeout(() => settle(true, `no PONG within ${timeoutMs} ms`), timeoutMs);
    client.ping().then(
      () => settle(false, 'pong'),
      (error: Error) => settle(/timed out/i.test(error.message), error.message),
    );
  };
  const interval = setInterval(check, intervalMs);
  interval.unref();
  return {
    suspect: check,
    stop: () => clearInterval(interval),
  };
}
