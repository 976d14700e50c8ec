// Random sequences of put / CAS / NX / XX / delete / incr / get / exists against a plain model map:
// statuses, versions, values and existence must agree at every step.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvIncrReply,
  decodeKvPutReply,
  toHex,
} from '../../../src/protocol/index.js';
import { harness } from './helpers.js';
import { ops } from './ops.js';

type Cmd =
  | { op: 'put'; ns: string; key: string; value: Uint8Array; cas?: bigint; nx?: boolean; xx?: boolean }
  | { op: 'del'; ns: string; key: string; ifMatch?: bigint }
  | { op: 'incr'; ns: string; key: string; delta: bigint }
  | { op: 'get'; ns: string; key: string }
  | { op: 'exists'; ns: string; key: string };

interface ModelEntry {
  version: bigint;
  value: Uint8Array | null; // null = tombstone
}

const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

const ns = fc.constantFrom('', 'default', 'other');
const key = fc.constantFrom('a', 'b', 'c');
const version = fc.bigInt({ min: 0n, max: 6n });
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.record(
    { op: fc.constant('put' as const), ns, key, value: fc.oneof(fc.uint8Array({ maxLength: 4 }), fc.uint8Array({ minLength: 8, maxLength: 8 })), cas: version, nx: fc.boolean(), xx: fc.boolean() },
    { requiredKeys: ['op', 'ns', 'key', 'value'] },
  ),
  fc.record({ op: fc.constant('del' as const), ns, key, ifMatch: version }, { requiredKeys: ['op', 'ns', 'key'] }),
  fc.record({ op: fc.constant('incr' as const), ns, key, delta: fc.oneof(fc.bigInt({ min: -5n, max: 5n }), fc.constantFrom(I64_MAX, I64_MIN)) }),
  fc.record({ op: fc.constant('get' as const), ns, key }),
  fc.record({ op: fc.constant('exists' as const), ns, key }),
);

describe('KV state agrees with a model map', () => {
  it('random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(cmd, { maxLength: 60 }), async (cmds) => {
        const h = harness();
        const kv = ops(h);
        const model = new Map<string, ModelEntry>();
        const id = (c: Cmd) => `${c.ns === '' ? 'default' : c.ns}/${c.key}`;
        for (const c of cmds) {
          const e = model.get(id(c));
          const live = e && e.value !== null ? e : undefined;
          switch (c.op) {
            case 'put': {
              const r = await kv.put(c.key, c.value, { casVersion: c.cas, ifNotExists: c.nx, ifExists: c.xx }, c.ns);
              const fails =
                (c.cas !== undefined && !(live ? live.version === c.cas : c.cas === 0n)) || (c.nx && live) || (c.xx && !live);
              if (fails) {
                expect(r.status).toBe(8);
              } else {
                const next = { version: (e?.version ?? 0n) + 1n, value: c.value };
                model.set(id(c), next);
                expect(decodeKvPutReply(r.payload!)).toEqual({ version: next.version });
              }
              break;
            }
            case 'del': {
              const r = await kv.del(c.key, c.ifMatch === undefined ? {} : { ifMatch: c.ifMatch }, c.ns);
              if (!live) expect(r.status).toBe(2);
              else if (c.ifMatch !== undefined && c.ifMatch !== live.version) expect(r.status).toBe(8);
              else {
                expect(r.status).toBe(0);
                model.set(id(c), { version: live.version + 1n, value: null });
              }
              break;
            }
            case 'incr': {
              const r = await kv.incr(c.key, c.delta, undefined, c.ns);
              if (live && live.value!.length !== 8) {
                expect(r.status).toBe(3);
                break;
              }
              const base = live ? new DataView(live.value!.buffer, live.value!.byteOffset, 8).getBigInt64(0, true) : 0n;
              const sum = base + c.delta;
              if (sum < I64_MIN || sum > I64_MAX) {
                expect(r.status).toBe(3);
                break;
              }
              const value = new Uint8Array(8);
              new DataView(value.buffer).setBigInt64(0, sum, true);
              const next = { version: (e?.version ?? 0n) + 1n, value };
              model.set(id(c), next);
              expect(decodeKvIncrReply(r.payload!)).toEqual({ version: next.version, value: sum });
              break;
            }
            case 'get': {
              const r = await kv.get(c.key, {}, c.ns);
              if (!live) expect(r.status).toBe(2);
              else {
                const got = decodeKvGetReply(r.payload!);
                expect([got.version, toHex(got.value)]).toEqual([live.version, toHex(live.value!)]);
              }
              break;
            }
            case 'exists': {
              const r = await kv.exists(c.key, undefined, c.ns);
              expect(decodeKvExistsReply(r.payload!)).toEqual(live ? { version: live.version, present: true } : { version: 0n, present: false });
              break;
            }
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
