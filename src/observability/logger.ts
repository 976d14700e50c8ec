/**
 * The `logger` option: structured logs of what the client does, for `console`, pino or anything
 * with the same four methods. Owns `FloLogger`, the console adapter and the one mapping from a
 * `FloEvent` to a level, a message and fields. Universal.
 */
import type { FloEvent } from './events.js';

/** Log levels, least severe first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * A structured logger, pino's shape: `logger.info({ endpoint, attempt }, 'message')`. pino,
 * bunyan-style loggers and `consoleLogger()` fit; `console` itself is adapted by `connect()`.
 */
export interface FloLogger {
  /** Logs at debug level: `fields` as structured data, `message` as the text. */
  debug(fields: Record<string, unknown>, message: string): void;
  /** Logs at info level: `fields` as structured data, `message` as the text. */
  info(fields: Record<string, unknown>, message: string): void;
  /** Logs at warn level: `fields` as structured data, `message` as the text. */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Logs at error level: `fields` as structured data, `message` as the text. */
  error(fields: Record<string, unknown>, message: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A line-oriented console, or anything with its four methods. */
export interface ConsoleLike {
  /** Writes a debug line. */
  debug(...args: unknown[]): void;
  /** Writes an info line. */
  info(...args: unknown[]): void;
  /** Writes a warning line. */
  warn(...args: unknown[]): void;
  /** Writes an error line. */
  error(...args: unknown[]): void;
}

/**
 * A `FloLogger` writing one line per entry, `flo-rx <message> key=value ...`, to a console (default
 * the global one), from `level` up (default `'info'`).
 */
export function consoleLogger(options: { console?: ConsoleLike; level?: LogLevel } = {}): FloLogger {
  const out = options.console ?? (globalThis.console as ConsoleLike);
  const min = RANK[options.level ?? 'info'];
  const at =
    (level: LogLevel) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (RANK[level] < min) return;
      out[level](`flo-rx ${message}${formatFields(fields)}`);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A `FloLogger` that hands each line to `write` (the `debug` option's function form). */
export function lineLogger(write: (line: string) => void, level: LogLevel = 'debug'): FloLogger {
  const c = (line: unknown) => write(String(line));
  return consoleLogger({ console: { debug: c, info: c, warn: c, error: c }, level });
}

function formatFields(fields: Record<string, unknown>): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = v instanceof Error ? v.message : typeof v === 'string' ? v : JSON.stringify(v);
    out += ` ${k}=${/\s/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
}

/** `console` and look-alikes take `(...args)`; pino-style loggers take `(fields, message)`. */
export function toFloLogger(logger: FloLogger | ConsoleLike, level?: LogLevel): FloLogger {
  if (logger === (globalThis.console as unknown)) return consoleLogger({ ...(level ? { level } : {}) });
  return logger as FloLogger;
}

function errorText(error: Error | undefined): string | undefined {
  if (error === undefined) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}

/** Logs one event at its level. */
export function logEvent(logger: FloLogger, event: FloEvent): void {
  try {
    switch (event.type) {
      case 'connecting':
        return logger.debug({ endpoint: event.endpoint, attempt: event.attempt }, 'connecting');
      case 'connect-failed':
        return logger.warn(
          { endpoint: event.endpoint, attempt: event.attempt, error: errorText(event.error) },
          'connection attempt failed',
        );
      case 'reconnect-scheduled':
        return logger.info({ attempt: event.attempt, delayMs: event.delayMs, error: errorText(event.error) }, 'reconnect scheduled');
      case 'connected':
        return logger.info({ endpoint: event.endpoint, reconnected: event.reconnected }, 'connected');
      case 'disconnected':
        return logger.warn({ endpoint: event.endpoint, error: errorText(event.error) }, 'disconnected');
      case 'closed':
        return logger.info({ reason: errorText(event.error) }, 'closed');
      case 'retry':
        return logger.warn(
          { operation: event.operation, attempt: event.attempt, delayMs: event.delayMs, error: errorText(event.error) },
          'retrying request',
        );
      case 'handed-back':
        return logger.info({ source: event.source, count: event.count, reason: event.reason }, 'handed back leased items');
      case 'settle-resent':
        return logger.warn(
          { op: event.op, count: event.count, attempt: event.attempt, error: errorText(event.error) },
          'resending settles after reconnect',
        );
      case 'slow-handler':
        return logger.warn(
          { source: event.source, itemId: event.itemId, elapsedMs: event.elapsedMs, thresholdMs: event.thresholdMs },
          'slow handler',
        );
      case 'draining':
        return logger.info({ source: event.source, deadlineMs: event.deadlineMs }, 'draining');
      case 'drained':
        return logger.info(
          { source: event.source, handedBack: event.handedBack, timedOut: event.timedOut },
          'drained',
        );
    }
  } catch {
    // a logger that throws must not break the client
  }
}
