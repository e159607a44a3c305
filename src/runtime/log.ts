/**
 * What a logger must have. console, pino and NestJS's Logger all fit; each is called the way it
 * expects (pino: fields first; Nest: message then stack; console: message then fields).
 */
export interface LoggerLike {
  warn(message: unknown, ...rest: unknown[]): unknown;
  error(message: unknown, ...rest: unknown[]): unknown;
}

/** The structured part of a log line. */
export interface LogFields {
  readonly method?: string;
  readonly circuit?: string;
  readonly attempt?: number;
  readonly maxAttempts?: number;
  readonly delay?: number;
  readonly error?: unknown;
  readonly [field: string]: unknown;
}

/** The engine's own view of a logger: a level, a message and fields. */
export interface LogSink {
  /** false for `logger: false`: callers skip building messages nobody reads */
  readonly enabled: boolean;
  warn(message: string, fields: LogFields): void;
  error(message: string, fields: LogFields): void;
}

const silent: LogSink = { enabled: false, warn() {}, error() {} };

type Style = 'pino' | 'nest' | 'plain';

function styleOf(logger: LoggerLike): Style {
  const candidate = logger as {
    levels?: { values?: unknown };
    child?: unknown;
    setLogLevels?: unknown;
    constructor?: { overrideLogger?: unknown };
  };
  if (typeof candidate.child === 'function' && typeof candidate.levels?.values === 'object')
    return 'pino';
  if (
    typeof candidate.constructor?.overrideLogger === 'function' ||
    typeof candidate.setLogLevels === 'function'
  )
    return 'nest';
  return 'plain';
}

function serialise(fields: LogFields): Record<string, unknown> {
  const { error, ...rest } = fields;
  if (error === undefined) return rest;
  return { ...rest, err: error instanceof Error ? error : { value: error } };
}

/** Adapts console, pino, NestJS's Logger or anything with warn/error; `false` silences. */
export function createLogSink(logger: LoggerLike | false): LogSink {
  if (logger === false) return silent;
  const style = styleOf(logger);
  // A logger that throws must never break the call it reports on.
  const write = (level: 'warn' | 'error', message: string, fields: LogFields): void => {
    try {
      if (style === 'pino') logger[level](serialise(fields), message);
      else if (style === 'nest') writeToNest(logger, level, message, fields);
      else logger[level](message, fields);
    } catch {
      // ignored on purpose
    }
  };
  return {
    enabled: true,
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}

/**
 * NestJS's Logger in its three guises. A text ConsoleLogger gets (message, [stack,] context). A JSON
 * one (`new ConsoleLogger({ json: true })`) and nestjs-pino's get one object, `{ message | msg,
 * method, attempt, delay, circuit, error, … }`, so the fields land in the JSON line. The stack of a
 * final failure is given only for an HttpException: NestJS's exception handler logs the stack of
 * any other error that reaches it, and logging it here too would print it twice.
 */
function writeToNest(
  logger: LoggerLike,
  level: 'warn' | 'error',
  message: string,
  fields: LogFields,
): void {
  // A Nest Logger made with a context prints an extra argument as a second message: pass ours only to one without.
  const context =
    typeof (logger as { context?: unknown }).context === 'string' ? [] : ['steadfast'];
  const target = nestTarget(logger);
  const pinoLike = typeof target.contextName === 'string' && typeof target.logger === 'object';
  if (pinoLike || target.options?.json === true) {
    const entry = { [pinoLike ? 'msg' : 'message']: message, ...plainFields(fields) };
    logger[level](entry, ...context);
    return;
  }
  const stack =
    level === 'error' && isHttpException(fields.error) ? (fields.error as Error).stack : undefined;
  if (stack !== undefined) logger.error(message, stack, ...context);
  else logger[level](message, ...context);
}

interface NestLoggerTarget {
  readonly options?: { readonly json?: unknown };
  readonly contextName?: unknown;
  readonly logger?: unknown;
}

/** The logger a Nest `Logger` facade writes to (the app's, after `app.useLogger()`), or the logger itself. */
function nestTarget(logger: LoggerLike): NestLoggerTarget {
  let instance: unknown;
  try {
    instance = (logger as { localInstance?: unknown }).localInstance;
  } catch {
    instance = undefined;
  }
  return (
    typeof instance === 'object' && instance !== null ? instance : logger
  ) as NestLoggerTarget;
}

/** The fields as JSON can show them: an error as its name, message and code (an Error stringifies to {}). */
function plainFields(fields: LogFields): Record<string, unknown> {
  const { error, ...rest } = fields;
  if (error === undefined) return rest;
  if (!(error instanceof Error)) return { ...rest, error: { value: error } };
  const code = (error as { code?: unknown }).code;
  return {
    ...rest,
    error: { name: error.name, message: error.message, ...(code === undefined ? {} : { code }) },
  };
}

function isHttpException(error: unknown): boolean {
  return (
    error instanceof Error &&
    typeof (error as { getStatus?: unknown }).getStatus === 'function' &&
    typeof (error as { getResponse?: unknown }).getResponse === 'function'
  );
}

/** One line of text for an error, for log messages. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return `non-error thrown: ${JSON.stringify(error)}`;
  } catch {
    return `non-error thrown: ${String(error)}`;
  }
}
