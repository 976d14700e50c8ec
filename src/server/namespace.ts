/**
 * Request namespaces, validated as Flo's newest server validates them: 1–63 bytes of
 * `[a-z0-9_-]`, starting with a letter or digit (a leading `_` is reserved for the system), not
 * ending with `-`. An empty namespace is the same as `default`.
 */
import { fromUtf8 } from '../protocol/index.js';
import { badRequest } from './reply.js';

export const DEFAULT_NAMESPACE = 'default';
/** Longest namespace Flo accepts, in bytes. */
export const MAX_NAMESPACE_BYTES = 63;

const NAMESPACE = /^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** Why `name` is not a valid namespace, or `undefined` when it is. `''` is valid (it means `default`). */
export function namespaceProblem(name: string): string | undefined {
  if (name === '') return undefined;
  if (name.length > MAX_NAMESPACE_BYTES) return `invalid namespace: longer than ${MAX_NAMESPACE_BYTES} bytes`;
  if (name.startsWith('_')) return `invalid namespace ${JSON.stringify(name)}: a leading '_' is reserved`;
  if (!NAMESPACE.test(name)) {
    return `invalid namespace ${JSON.stringify(name)}: use 1-${MAX_NAMESPACE_BYTES} of a-z, 0-9, '_' and '-', starting with a letter or digit and not ending with '-'`;
  }
  return undefined;
}

/** The namespace a handler sees: `''` becomes `'default'`. Throws `BadRequestError` when Flo would refuse it. */
export function normaliseNamespace(bytes: Uint8Array): string {
  if (bytes.length > MAX_NAMESPACE_BYTES) {
    throw badRequest(`invalid namespace: ${bytes.length} bytes (max ${MAX_NAMESPACE_BYTES})`);
  }
  const name = fromUtf8(bytes);
  const problem = namespaceProblem(name);
  if (problem) throw badRequest(problem);
  return name === '' ? DEFAULT_NAMESPACE : name;
}
