import type { FastifyBaseLogger } from 'fastify';

type Bindings = Record<string, unknown>;
type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** pino answers this itself; another logger is asked every time (its child is built). */
function enabled(logger: FastifyBaseLogger, level: Level): boolean {
  const check = (logger as { isLevelEnabled?: (l: string) => boolean }).isLevelEnabled;
  return check ? check.call(logger, level) : true;
}
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];

/**
 * `request.log` without building a pino child on every request. Fastify's default factory calls
 * `logger.child({ reqId })` for each request, and pino runs the redaction over the bindings each
 * time: several µs of CPU per request (BENCHMARKS.md, issue 16), spent even when the request logs
 * nothing. This logger builds the child on the first call at an enabled level, so every line it
 * writes carries `reqId` exactly as before. The one line every request writes
 * (src/app.ts) goes through the parent logger with its fields spelled out.
 */
class LazyRequestLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildOptions,
  ) {}

  private get log(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.#child?.level ?? this.parent.level;
  }
  set level(level: string) {
    this.log.level = level;
  }

  fatal(obj: unknown, msg?: string, ...rest: unknown[]): void {
    this.write('fatal', obj, msg, rest);
  }
  error(obj: unknown, msg?: string, ...rest: unknown[]): void {
    this.write('error', obj, msg, rest);
  }
  warn(obj: unknown, msg?: string, ...rest: unknown[]): void {
    this.write('warn', obj, msg, rest);
  }
  info(obj: unknown, msg?: string, ...rest: unknown[]): void {
    this.write('info', obj, msg, rest);
  }
  debug(obj: unknown, msg?: string, ...rest: unknown[]): void {
    this.write('debug', obj, msg, rest);
  }
  trace(obj: unknown, msg?: string, ...rest: unknown[]): void {
    this.write('trace', obj, msg, rest);
  }
  silent(): void {}

  private write(level: Level, obj: unknown, msg: string | undefined, rest: unknown[]): void {
    if (!this.#child && !enabled(this.parent, level)) return;
    this.log[level](obj, msg, ...rest);
  }

  child(bindings: Bindings, options?: ChildOptions): FastifyBaseLogger {
    return this.log.child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory` option: a lazy child per request. */
export function lazyRequestLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildOptions): FastifyBaseLogger {
  return new LazyRequestLogger(logger, bindings, options);
}
