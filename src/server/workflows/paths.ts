/**
 * Path expressions and input/output mappings: `$.input[.a.b]`, `$.steps.<step>.output[.a.b]`,
 * `$.steps.<step>.outcome`, `$.flo.run_id`, `$.flo.timestamp`. A missing field is `null`.
 */
export interface PathScope {
  readonly input: string;
  readonly steps: ReadonlyMap<string, { readonly output: string; readonly outcome: string }>;
  readonly runId: string;
  readonly now: number;
}

/** Thrown when a path needs to look into text that is not JSON. */
class NotJson extends Error {}

function dig(text: string, fields: readonly string[]): unknown {
  if (fields.length === 0) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text; // raw text (e.g. non-JSON input) is used as a string
    }
  }
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch {
    throw new NotJson();
  }
  for (const f of fields) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    v = (v as Record<string, unknown>)[f];
    if (v === undefined) return null;
  }
  return v;
}

/** Resolves one path to a JS value (`null` when missing). Throws when it must look into non-JSON text. */
export function resolvePath(path: string, scope: PathScope): unknown {
  const parts = path.slice(2).split('.');
  const [root, ...rest] = parts;
  if (root === 'input') return dig(scope.input, rest);
  if (root === 'steps' && rest.length >= 2) {
    const label = rest[0] === '_start' ? 'start' : rest[0];
    const s = scope.steps.get(label);
    if (rest[1] === 'outcome') return s ? s.outcome : null;
    if (rest[1] === 'output') return dig(s ? s.output : '{}', rest.slice(2));
    return null;
  }
  if (root === 'flo') {
    if (rest[0] === 'run_id') return scope.runId;
    if (rest[0] === 'timestamp') return scope.now;
  }
  return null;
}

function substitute(v: unknown, scope: PathScope): unknown {
  if (typeof v === 'string') return v.startsWith('$.') ? resolvePath(v, scope) : v;
  if (Array.isArray(v)) return v.map((x) => substitute(x, scope));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = substitute(x, scope);
    return out;
  }
  return v;
}

/**
 * Applies an `inputMapping` template: every string value starting with `$.` is replaced by its
 * resolved value. No `$.` → the template unchanged; not JSON → the template as-is; resolution
 * failure → the raw workflow input.
 */
export function applyMapping(template: string, scope: PathScope): string {
  if (!template.includes('$.')) return template;
  let parsed: unknown;
  try {
    parsed = JSON.parse(template) as unknown;
  } catch {
    return template;
  }
  try {
    return JSON.stringify(substitute(parsed, scope)) ?? 'null';
  } catch (e) {
    if (e instanceof NotJson) return scope.input;
    throw e;
  }
}

/** The run output: a single `$.` path, or a template. */
export function evaluateOutput(expr: string, scope: PathScope): string {
  const t = expr.trim();
  if (t.startsWith('$.') && !/\s/.test(t)) {
    try {
      const v = resolvePath(t, scope);
      return JSON.stringify(v) ?? 'null';
    } catch {
      return 'null';
    }
  }
  return applyMapping(expr, scope);
}

/** Search attributes as a small JSON object `{"name": value | null, …}`. */
export function searchAttributesJson(attrs: readonly { name: string; from: string }[], scope: PathScope): string | undefined {
  if (attrs.length === 0) return undefined;
  const out: Record<string, unknown> = {};
  for (const a of attrs) {
    let v: unknown = null;
    try {
      v = resolvePath(a.from, scope);
    } catch {
      v = null;
    }
    out[a.name] = v === undefined ? null : v;
  }
  return JSON.stringify(out);
}
