/**
 * The JSON documents behind KV's JSON get/set/del (opcodes 0x10C-0x10E).
 *
 * Path grammar: `$` then any of `.name` (one or more characters other than `.` and `[`) and
 * `[digits]`. No quoting, wildcards, slices, negative indexes or filters.
 *
 * Documents are parsed into a tree that keeps every string and number exactly as written (so large
 * integers and escapes survive), and re-serialized compactly (no whitespace).
 */

export type JsonNode =
  | { readonly t: 'obj'; members: Array<{ name: string; raw: string; value: JsonNode }> }
  | { readonly t: 'arr'; items: JsonNode[] }
  | { readonly t: 'lit'; readonly raw: string };

export type PathSegment = { readonly kind: 'member'; readonly name: string } | { readonly kind: 'index'; readonly index: number };

/** Parses a path; `undefined` when the syntax is invalid. An empty path is `$`. */
export function parseJsonPath(path: string): PathSegment[] | undefined {
  if (path === '') return [];
  if (path[0] !== '$') return undefined;
  const out: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      let j = i + 1;
      while (j < path.length && path[j] !== '.' && path[j] !== '[') j++;
      if (j === i + 1) return undefined;
      out.push({ kind: 'member', name: path.slice(i + 1, j) });
      i = j;
    } else if (c === '[') {
      let j = i + 1;
      while (j < path.length && path[j] >= '0' && path[j] <= '9') j++;
      if (j === i + 1 || path[j] !== ']') return undefined;
      const index = Number(path.slice(i + 1, j));
      if (!Number.isSafeInteger(index)) return undefined;
      out.push({ kind: 'index', index });
      i = j + 1;
    } else {
      return undefined;
    }
  }
  return out;
}

class JsonSyntaxError extends Error {}

/** Strict RFC 8259 parse; `undefined` when the text is not one JSON value. */
export function parseJson(text: string): JsonNode | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const fail = (): never => {
    throw new JsonSyntaxError();
  };
  const str = (): string => {
    const start = i;
    if (text[i] !== '"') fail();
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) fail();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail();
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i += 2;
        } else fail();
      } else i++;
    }
    i++;
    return text.slice(start, i);
  };
  const num = (): string => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 4096)) ?? fail();
    const raw = m[0];
    if (raw === '' || raw === '-') fail();
    i += raw.length;
    return raw;
  };
  const value = (depth: number): JsonNode => {
    if (depth > 512) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members: Array<{ name: string; raw: string; value: JsonNode }> = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { t: 'obj', members };
      }
      for (;;) {
        ws();
        const raw = str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        const v = value(depth + 1);
        members.push({ name: JSON.parse(raw) as string, raw, value: v });
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { t: 'obj', members };
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { t: 'arr', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { t: 'arr', items };
        }
        fail();
      }
    }
    if (c === '"') return { t: 'lit', raw: str() };
    for (const lit of ['true', 'false', 'null']) {
      if (text.startsWith(lit, i)) {
        i += lit.length;
        return { t: 'lit', raw: lit };
      }
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return { t: 'lit', raw: num() };
    return fail();
  };
  try {
    const v = value(0);
    ws();
    return i === text.length ? v : undefined;
  } catch (err) {
    if (err instanceof JsonSyntaxError) return undefined;
    throw err;
  }
}

/** Compact serialization (no whitespace; strings and numbers as written). */
export function stringifyJson(node: JsonNode): string {
  switch (node.t) {
    case 'lit':
      return node.raw;
    case 'arr':
      return `[${node.items.map(stringifyJson).join(',')}]`;
    case 'obj':
      return `{${node.members.map((m) => `${m.raw}:${stringifyJson(m.value)}`).join(',')}}`;
  }
}

function child(node: JsonNode, seg: PathSegment): JsonNode | undefined {
  if (seg.kind === 'member') {
    if (node.t !== 'obj') return undefined;
    return node.members.find((m) => m.name === seg.name)?.value;
  }
  if (node.t !== 'arr') return undefined;
  return node.items[seg.index];
}

/** The node at `path`, or undefined when a segment is missing, out of range or the wrong container. */
export function jsonSelect(doc: JsonNode, path: readonly PathSegment[]): JsonNode | undefined {
  let node: JsonNode | undefined = doc;
  for (const seg of path) {
    node = child(node, seg);
    if (!node) return undefined;
  }
  return node;
}

/**
 * Replaces the node at a non-empty `path` (an object member is created if missing; an array index
 * must exist). Returns false when the path cannot be reached.
 */
export function jsonReplace(doc: JsonNode, path: readonly PathSegment[], value: JsonNode): boolean {
  const parent = jsonSelect(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (!parent || !last) return false;
  if (last.kind === 'member') {
    if (parent.t !== 'obj') return false;
    const m = parent.members.find((x) => x.name === last.name);
    if (m) m.value = value;
    else parent.members.push({ name: last.name, raw: JSON.stringify(last.name), value });
    return true;
  }
  if (parent.t !== 'arr' || last.index >= parent.items.length) return false;
  parent.items[last.index] = value;
  return true;
}

/** Removes the member or element at a non-empty `path`; false when it is not there. */
export function jsonRemove(doc: JsonNode, path: readonly PathSegment[]): boolean {
  const parent = jsonSelect(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (!parent || !last) return false;
  if (last.kind === 'member') {
    if (parent.t !== 'obj') return false;
    const at = parent.members.findIndex((x) => x.name === last.name);
    if (at < 0) return false;
    parent.members.splice(at, 1);
    return true;
  }
  if (parent.t !== 'arr' || last.index >= parent.items.length) return false;
  parent.items.splice(last.index, 1);
  return true;
}
