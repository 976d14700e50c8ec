/**
 * The JSON paths of processing definitions: `$.a.b` (or `a.b`), object keys only. A path that
 * misses gives `undefined`.
 */

/** A parsed path: its object keys, outermost first (empty = the whole value). */
export type JsonPath = readonly string[];

export function parsePath(path: string): JsonPath {
  let p = path.trim();
  if (p === '$') return [];
  if (p.startsWith('$.')) p = p.slice(2);
  return p === '' ? [] : p.split('.');
}

export function readPath(value: unknown, path: JsonPath): unknown {
  let at = value;
  for (const k of path) {
    if (at === null || typeof at !== 'object' || Array.isArray(at)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(at, k)) return undefined;
    at = (at as Record<string, unknown>)[k];
  }
  return at;
}

/** True for a string that names a path (`$.` or `$`), as map and kv_lookup templates use. */
export function isPath(text: string): boolean {
  return text === '$' || text.startsWith('$.');
}

/** A field as text for keys and templates: strings as they are, anything else as JSON. */
export function fieldText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
