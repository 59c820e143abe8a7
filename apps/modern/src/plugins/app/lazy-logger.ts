import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Logger } from 'pino';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * A per-request logger that makes no pino child unless it must. Fastify makes one child per
 * request (for the request id binding), which costs more than the line itself; here a line
 * whose first argument is a plain object or a message goes to the parent logger with the
 * bindings put in front of its own fields, which pino writes as the same text a child would
 * (the parent's bindings, then `requestId`, then the line's fields). Errors as first argument,
 * a route's own log level or serializers, `child()` and level changes get the real child.
 */
class LazyRequestLogger {
  readonly #parent: Logger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: Logger | undefined;
  /** The child would differ from the parent only by its bindings. */
  readonly #plain: boolean;

  constructor(parent: Logger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
    this.#plain =
      (options.level === undefined || options.level === parent.level) &&
      options.serializers === undefined &&
      Object.keys(options).every((key) => key === 'level' || key === 'serializers');
  }

  get plainParent(): Logger | undefined {
    return this.#plain && !this.#child ? this.#parent : undefined;
  }

  #real(): Logger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  #write(level: Level, args: unknown[]): void {
    if (this.#child || !this.#plain) {
      (this.#real()[level] as (...a: unknown[]) => void)(...args);
      return;
    }
    if (!this.#parent.isLevelEnabled(level)) return;
    const first = args[0];
    const write = this.#parent[level] as (...a: unknown[]) => void;
    if (typeof first === 'string') {
      write.call(this.#parent, this.#bindings, ...args);
    } else if (
      first !== null &&
      typeof first === 'object' &&
      Object.getPrototypeOf(first) === Object.prototype
    ) {
      args[0] = { ...this.#bindings, ...first };
      write.apply(this.#parent, args);
    } else {
      (this.#real()[level] as (...a: unknown[]) => void)(...args);
    }
  }

  get level(): string {
    return this.#plain ? (this.#child?.level ?? this.#parent.level) : this.#real().level;
  }

  set level(level: string) {
    this.#real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.#plain ? (this.#child ?? this.#parent) : this.#real()).isLevelEnabled(level);
  }

  fatal(...args: unknown[]) {
    this.#write('fatal', args);
  }
  error(...args: unknown[]) {
    this.#write('error', args);
  }
  warn(...args: unknown[]) {
    this.#write('warn', args);
  }
  info(...args: unknown[]) {
    this.#write('info', args);
  }
  debug(...args: unknown[]) {
    this.#write('debug', args);
  }
  trace(...args: unknown[]) {
    this.#write('trace', args);
  }
  silent() {}

  child(bindings: Bindings, options?: ChildLoggerOptions): Logger {
    return this.#real().child(bindings, options);
  }
}

/**
 * The logger a request's lines may be written to directly, with its bindings supplied by the
 * caller: the parent of a lazy request logger that has made no child and would make a plain one.
 */
export function plainParent(log: unknown): Logger | undefined {
  return log instanceof LazyRequestLogger ? log.plainParent : undefined;
}

/** A lazy request logger under `logger`, as `logger.child(bindings, options)` would make a real one. */
export function lazyChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyRequestLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger;
}

/**
 * The logger to give Fastify (`loggerInstance`): `logger` itself, except that the child Fastify
 * makes of it for the server (`fastify.log`) makes lazy request loggers as its children. Fastify's
 * default child-logger factory is `log.child(bindings, options)`, so every request gets a lazy
 * logger without a custom `childLoggerFactory` — for which Fastify would check every result's
 * seven methods (`validateLogger`: ~2.5 k instructions of megamorphic property reads per request
 * under callgrind, a tenth of what a cached read spends above bare Fastify).
 */
export function withLazyRequestLoggers(logger: Logger): Logger {
  type Child = (bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const root = Object.create(logger) as { child: Child };
  root.child = (bindings, options) => {
    const server = logger.child(bindings, options);
    const withLazy = Object.create(server) as { child: Child };
    withLazy.child = (requestBindings, requestOptions = {}) =>
      lazyChildLogger(server, requestBindings, requestOptions) as unknown as Logger;
    return withLazy as unknown as Logger;
  };
  return root as unknown as Logger;
}
