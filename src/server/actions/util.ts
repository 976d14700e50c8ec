import { ProtocolError } from '../../protocol/index.js';
import { badRequest } from '../reply.js';

/** Runs a request decoder; bad bytes answer BAD_REQUEST (with `message`, or the decoder's own). */
export function decodeOrBadRequest<T>(fn: () => T, message?: string): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtocolError) throw badRequest(message ?? e.message);
    throw e;
  }
}

/** Parses JSON text; undefined when it is not JSON. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
