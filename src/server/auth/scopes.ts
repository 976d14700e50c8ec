/**
 * Flo's JWT scopes: `action:resource:key-pattern` (e.g. `read:stream:chat:*`). `*` matches any
 * action or resource; the key pattern matches everything when empty or `*`, a prefix when it ends
 * in `*`, else exactly. Every opcode maps to an action (`read` for operations that only look,
 * `write` for everything that changes state, including leasing reads such as dequeue) and a
 * resource (`kv`, `queue`, `stream`, `action`, `worker`, `workflow`, `processing`, `ts`, `namespace`).
 */
import { Op } from '../../protocol/index.js';

/** What a request does, for scope matching. */
export interface Access {
  readonly action: 'read' | 'write';
  readonly resource: string;
}

/** True when `scope` allows `action` on `resource` for `key`. */
export function matchScope(scope: string, action: string, resource: string, key: string): boolean {
  const first = scope.indexOf(':');
  if (first < 0) return false;
  const second = scope.indexOf(':', first + 1);
  if (second < 0) return false;
  const scopeAction = scope.slice(0, first);
  const scopeResource = scope.slice(first + 1, second);
  const pattern = scope.slice(second + 1);
  if (scopeAction !== '*' && scopeAction !== action) return false;
  if (scopeResource !== '*' && scopeResource !== resource) return false;
  if (pattern === '' || pattern === '*') return true;
  if (pattern.endsWith('*')) return key.startsWith(pattern.slice(0, -1));
  return key === pattern;
}

const RESOURCES: ReadonlyArray<[prefix: string, resource: string]> = [
  ['Kv', 'kv'],
  ['Queue', 'queue'],
  ['Stream', 'stream'],
  ['Action', 'action'],
  ['Worker', 'worker'],
  ['Workflow', 'workflow'],
  ['Processing', 'processing'],
  ['Ts', 'ts'],
  ['Namespace', 'namespace'],
];

/** Operations that only look (everything else counts as `write`). */
const READ_ONLY = /(Get|MGet|Scan|History|Exists|Read|Info|List|ListRuns|Pending|Peek|Stats|DlqList|DlqStats|Status|Query|FloQL|ListDefinitions|GetDefinition)$/;

const ACCESS = new Map<number, Access>();
for (const [name, code] of Object.entries(Op) as Array<[string, number]>) {
  const entry = RESOURCES.find(([prefix]) => name.startsWith(prefix));
  if (!entry) continue;
  // A stream group read leases records: it changes the group's state.
  const action = READ_ONLY.test(name) && name !== 'StreamGroupRead' ? 'read' : 'write';
  ACCESS.set(code, { action, resource: entry[1] });
}

/** The access an opcode needs; `undefined` for opcodes outside every resource (ping, cluster, ...). */
export function accessFor(opcode: number): Access | undefined {
  return ACCESS.get(opcode);
}
