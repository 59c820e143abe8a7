import {
  BrokenCircuitError,
  BulkheadRejectedError,
  type BulkheadPolicy,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext,
  type RetryPolicy,
  retry,
  TaskCancelledError,
  TimeoutStrategy,
  type TimeoutPolicy,
  timeout,
} from 'cockatiel';
import {
  errorFromResponse,
  StrapiBadResponseError,
  StrapiCircuitOpenError,
  StrapiError,
  StrapiOverloadedError,
  StrapiRateLimitedError,
  StrapiTimeoutError,
  StrapiUnavailableError,
} from './errors.ts';
import type { BreakerState, EventHub } from './events.ts';
import type { ResolvedOptions, StrapiLogger } from './options.ts';
import { traceRequest } from './tracing.ts';

export interface TransportRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path below the API prefix, e.g. `/articles/abc`. */
  path: string;
  /** Already-encoded query string without `?`. */
  query?: string;
  body?: unknown;
  /** Content type for events/logs. */
  type: string;
  /** Prefix of `path` instead of the REST `apiPrefix` (GraphQL lives at `/graphql`, beside `/api`). */
  prefix?: string;
  /** Retry this request on transient failures. Default: GET/HEAD only (a GraphQL query opts in). */
  idempotent?: boolean;
  /**
   * Turns Strapi's answer (any status, body parsed as JSON) into the result or a StrapiError,
   * inside the policies: what it throws is retried and counted by the breaker like an HTTP
   * error. Default: non-2xx → `errorFromResponse`, else the body.
   */
  interpret?: (answer: TransportAnswer) => unknown;
}

export interface TransportAnswer {
  status: number;
  body: unknown;
  retryAfter: string | null;
  method: string;
  /** Path without query, e.g. `/graphql`. */
  path: string;
}

export interface PingResult {
  ok: boolean;
  status?: number;
  latencyMs: number;
  breaker: BreakerState;
  error?: string;
}

const IDEMPOTENT = new Set(['GET', 'HEAD']);

/** Errors that say "Strapi is unhealthy": they count towards opening the breaker. */
function isUpstreamFailure(error: unknown): boolean {
  if (error instanceof StrapiTimeoutError) return true;
  if (error instanceof StrapiCircuitOpenError || error instanceof StrapiOverloadedError) return false;
  return error instanceof StrapiUnavailableError;
}

/**
 * Exponential backoff with decorrelated jitter (cockatiel's default generator), stretched to
 * at least the server's Retry-After when the failed attempt carried one.
 */
class RetryAfterBackoff implements IBackoff<IRetryBackoffContext<unknown>> {
  readonly duration: number;
  #inner: IBackoff<unknown>;
  constructor(inner: IBackoff<unknown>, context: IRetryBackoffContext<unknown>) {
    this.#inner = inner;
    const error = 'error' in context.result ? context.result.error : undefined;
    const retryAfter =
      error instanceof StrapiRateLimitedError || error instanceof StrapiUnavailableError
        ? (error.retryAfterMs ?? 0)
        : 0;
    this.duration = Math.max(inner.duration, retryAfter);
  }
  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return new RetryAfterBackoff(this.#inner.next(context), context);
  }
}

class RetryAfterBackoffFactory implements IBackoffFactory<IRetryBackoffContext<unknown>> {
  #exponential: ExponentialBackoff<unknown>;
  constructor(initialDelay: number, maxDelay: number) {
    this.#exponential = new ExponentialBackoff({ initialDelay, maxDelay });
  }
  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    return new RetryAfterBackoff(this.#exponential.next(), context);
  }
}

const BREAKER_STATES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * HTTP to Strapi with the resilience stack (all cockatiel):
 *   retry (GET only) → circuit breaker → bulkhead (concurrency cap + queue) → timeout → fetch
 * The token goes in the Authorization header only; errors and events carry method + path.
 */
export class Transport {
  readonly breaker: CircuitBreakerPolicy;
  #options: ResolvedOptions;
  #events: EventHub;
  #logger: StrapiLogger;
  #retry: RetryPolicy;
  #bulkhead: BulkheadPolicy;
  #timeout: TimeoutPolicy;
  #origin: string;
  #inFlight = 0;

  constructor(options: ResolvedOptions, events: EventHub, logger: StrapiLogger) {
    this.#options = options;
    this.#events = events;
    this.#logger = logger;
    this.#origin = options.baseUrl.replace(/\/+$/, '');
    this.#timeout = timeout(options.timeoutMs, TimeoutStrategy.Cooperative);
    this.#bulkhead = bulkhead(options.maxConcurrency, options.maxQueue);
    this.breaker = circuitBreaker(handleWhen(isUpstreamFailure), {
      halfOpenAfter: options.breaker.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breaker.threshold),
    });
    this.breaker.onStateChange((state) => {
      const name = BREAKER_STATES[state];
      this.#logger.warn({ breaker: name }, `strapi-client: circuit breaker ${name}`);
      this.#events.emit('breaker', { state: name });
    });
    const { maxAttempts, initialDelayMs, maxDelayMs, maxRetryAfterMs } = options.retry;
    this.#retry = retry(
      handleWhen((error) => {
        if (!(error instanceof StrapiError)) return false;
        if (error instanceof StrapiCircuitOpenError || error instanceof StrapiOverloadedError) return false;
        const retryAfter =
          error instanceof StrapiRateLimitedError || error instanceof StrapiUnavailableError
            ? error.retryAfterMs
            : undefined;
        if (retryAfter !== undefined && retryAfter > maxRetryAfterMs) return false;
        if (error instanceof StrapiRateLimitedError || error instanceof StrapiTimeoutError) return true;
        // 5xx: only the "try again" family; a 500 is usually a bug that a retry won't fix.
        if (error instanceof StrapiUnavailableError) {
          return (
            error.status === undefined || error.status === 502 || error.status === 503 || error.status === 504
          );
        }
        return false;
      }),
      { maxAttempts, backoff: new RetryAfterBackoffFactory(initialDelayMs, maxDelayMs) },
    );
    this.#retry.onRetry((event) => {
      const error = 'error' in event ? event.error : undefined;
      this.#logger.debug(
        { attempt: event.attempt, delayMs: event.delay, code: (error as StrapiError | undefined)?.code },
        'strapi-client: retrying',
      );
    });
  }

  get breakerState(): BreakerState {
    return BREAKER_STATES[this.breaker.state];
  }

  /** Requests currently executing against Strapi (not queued). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Sends the request through the policies; resolves with the parsed JSON body (undefined for 204). */
  request(req: TransportRequest): Promise<unknown> {
    const path = `${req.prefix ?? this.#options.apiPrefix}${req.path}`;
    return traceRequest(
      req.method,
      path,
      () => this.breakerState,
      () => this.#request(req),
    );
  }

  async #request(req: TransportRequest): Promise<unknown> {
    const once = (attempt: number) => this.#guarded(req, attempt);
    const idempotent = req.idempotent ?? IDEMPOTENT.has(req.method);
    if (idempotent && this.#options.retry.maxAttempts > 0) {
      return this.#retry.execute(({ attempt }) => once(attempt));
    }
    return once(0);
  }

  async #guarded(req: TransportRequest, attempt: number): Promise<unknown> {
    const fullPath = `${req.prefix ?? this.#options.apiPrefix}${req.path}`;
    try {
      return await this.breaker.execute(() =>
        this.#bulkhead.execute(() => this.#timeout.execute(({ signal }) => this.#send(req, attempt, signal))),
      );
    } catch (error) {
      if (error instanceof StrapiError) throw error;
      if (error instanceof BrokenCircuitError) {
        throw new StrapiCircuitOpenError(`Strapi circuit is open: ${req.method} ${fullPath} was not sent`, {
          method: req.method,
          path: fullPath,
        });
      }
      if (error instanceof BulkheadRejectedError) {
        throw new StrapiOverloadedError(
          `Too many concurrent Strapi requests: ${req.method} ${fullPath} was not sent`,
          { method: req.method, path: fullPath },
        );
      }
      if (error instanceof TaskCancelledError) {
        throw new StrapiTimeoutError(`Strapi ${req.method} ${fullPath} timed out`, {
          method: req.method,
          path: fullPath,
          timeoutMs: this.#options.timeoutMs,
        });
      }
      throw error;
    }
  }

  async #send(req: TransportRequest, attempt: number, signal: AbortSignal): Promise<unknown> {
    const path = `${req.prefix ?? this.#options.apiPrefix}${req.path}`;
    const url = `${this.#origin}${path}${req.query ? `?${req.query}` : ''}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.token) headers.authorization = `Bearer ${this.#options.token}`;
    let body: string | undefined;
    if (req.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(req.body);
    }
    const started = performance.now();
    let status: number | undefined;
    this.#inFlight++;
    try {
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, { method: req.method, headers, body, signal });
        status = response.status;
        text = await response.text();
      } catch (cause) {
        if (signal.aborted) {
          throw new StrapiTimeoutError(
            `Strapi ${req.method} ${path} timed out after ${this.#options.timeoutMs}ms`,
            { method: req.method, path, status, timeoutMs: this.#options.timeoutMs },
          );
        }
        throw new StrapiUnavailableError(
          `Strapi ${req.method} ${path} failed: ${describeNetworkError(cause)}`,
          {
            method: req.method,
            path,
            cause,
          },
        );
      }
      let parsed: unknown;
      if (text.length > 0) {
        try {
          parsed = JSON.parse(text);
        } catch {
          if (response.ok) {
            throw new StrapiBadResponseError(`Strapi ${req.method} ${path} answered non-JSON`, {
              method: req.method,
              path,
              status,
            });
          }
        }
      }
      const retryAfter = response.headers.get('retry-after');
      if (req.interpret) {
        parsed = req.interpret({
          status: response.status,
          body: parsed,
          retryAfter,
          method: req.method,
          path,
        });
      } else if (!response.ok) {
        throw errorFromResponse(response.status, parsed, { method: req.method, path, retryAfter });
      }
      this.#emitUpstream(req, path, attempt, started, status, undefined);
      return parsed;
    } catch (error) {
      this.#emitUpstream(req, path, attempt, started, status, error);
      throw error;
    } finally {
      this.#inFlight--;
    }
  }

  #emitUpstream(
    req: TransportRequest,
    path: string,
    attempt: number,
    started: number,
    status: number | undefined,
    error: unknown,
  ): void {
    const durationMs = performance.now() - started;
    const errorCode = error instanceof StrapiError ? error.code : error ? 'UNKNOWN' : undefined;
    if (error) {
      this.#logger.debug(
        { method: req.method, path, status, durationMs, code: errorCode, attempt },
        'strapi-client: upstream request failed',
      );
    }
    this.#events.emit('upstream', {
      method: req.method,
      path,
      type: req.type,
      status,
      durationMs,
      ok: !error,
      errorCode,
      attempt,
    });
  }

  /**
   * Cheap reachability probe for readiness: `GET /_health` (Strapi answers 204), bounded by
   * `timeoutMs`, outside the breaker and the concurrency cap. Never throws.
   */
  async ping(): Promise<PingResult> {
    const started = performance.now();
    const breaker = this.breakerState;
    try {
      const response = await fetch(`${this.#origin}/_health`, {
        method: 'GET',
        signal: AbortSignal.timeout(this.#options.timeoutMs),
      });
      await response.arrayBuffer();
      const ok = response.status >= 200 && response.status < 300;
      return { ok, status: response.status, latencyMs: performance.now() - started, breaker };
    } catch (error) {
      return {
        ok: false,
        latencyMs: performance.now() - started,
        breaker,
        error: describeNetworkError(error),
      };
    }
  }
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: string }).code;
    return code ? `${code}` : cause.message;
  }
  return error.name === 'TimeoutError' ? 'timeout' : error.message;
}
