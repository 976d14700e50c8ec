/**
 * The action worker's error classes, exported by `flo-rx` (a handler throws `NonRetryableError`;
 * events carry `ActionResultTooLargeError` and `ActionTimeoutError`), kept apart from the run
 * loop (`run.ts`, `task.ts`) so that `instanceof` needs nothing else.
 * Reads: `protocol/errors`. Rules: `docs/protocol-decisions.md` #29 (retry flags of FAIL).
 */
import { FloError } from '../../protocol/errors.js';
import { MAX_ACTION_RESULT_BYTES } from './result.js';

/**
 * Throw (or reject with, or error with) this from a handler to fail the task without a retry
 * (FAIL retry=0). Any other `Error` is retried (FAIL retry=1); a thrown non-Error value (the Go
 * "panic" case) is not (`docs/protocol-decisions.md` #29).
 */
export class NonRetryableError extends FloError {
  override name = 'NonRetryableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A handler result larger than a COMPLETE can carry; the task is failed without retry. */
export class ActionResultTooLargeError extends NonRetryableError {
  override name = 'ActionResultTooLargeError';
  declare readonly size: number;
  constructor(size: number) {
    super(`flo: action result is ${size} bytes; a COMPLETE carries at most ${MAX_ACTION_RESULT_BYTES}. Store large results elsewhere (KV, a stream) and return a reference`);
    this.size = size;
  }
}

/**
 * A handler still running when a time limit ran out: the worker's `handlerTimeoutMs`
 * (`limit: 'handler'`: the task is failed without retry, as the Go worker does), or its
 * `drainTimeoutMs` after it began draining (`limit: 'drain'`: the task is abandoned and failed with
 * retry=1, so the server delivers it again while attempts remain).
 */
export class ActionTimeoutError extends FloError {
  override name = 'ActionTimeoutError';
  declare readonly timeoutMs: number;
  declare readonly limit: 'handler' | 'drain';
  constructor(timeoutMs: number, limit: 'handler' | 'drain' = 'handler') {
    super(
      limit === 'handler'
        ? `action timed out after ${timeoutMs} ms`
        : `action abandoned: still running ${timeoutMs} ms after the worker began draining`,
    );
    this.timeoutMs = timeoutMs;
    this.limit = limit;
  }
}

