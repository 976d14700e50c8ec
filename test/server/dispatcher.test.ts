import { describe, expect, it } from 'vitest';
import { EMPTY, fromUtf8, Status, utf8, type RequestBody } from '../../src/protocol/index.js';
import { collectHandlers, Dispatcher, type Answer } from '../../src/server/dispatcher.js';
import { ok, OkWriter, payloadBytes } from '../../src/server/reply.js';
import type { Handler } from '../../src/server/types.js';

const NS = 0x7e0;
const OPTS = 0x7e1;
const WRITER = 0x7e2;
const BAD_WRITER = 0x7e3;
const handlers = new Map<number, Handler>([
  [WRITER, () => ({ status: Status.OK, payload: { byteLength: 3, writeAt: (t: Uint8Array, _v: DataView, at: number) => t.set([1, 2, 3], at) } })],
  [BAD_WRITER, () => ({ status: Status.OK, payload: { byteLength: -1, writeAt: () => {} } })],
  [NS, (ctx) => ok(utf8(ctx.namespace))],
  [OPTS, (ctx) => ok(utf8(ctx.options.entries.map((e) => `${e.tag}:${e.value.length}`).join(',')))],
]);
const body = (namespace: Uint8Array, options: Uint8Array = EMPTY): RequestBody => ({ namespace, key: EMPTY, value: EMPTY, options });
const signal = new AbortController().signal;

function call(d: Dispatcher, opcode: number, b: RequestBody): Answer {
  const a = d.dispatch({ requestId: 1n, opcode, body: b, signal, connectionId: 1 });
  if (a instanceof Promise) throw new Error('unexpected parked answer');
  return a;
}

describe('Dispatcher', () => {
  it('gives handlers the namespace of each request, however namespaces repeat, change or are invalid', () => {
    const d = new Dispatcher(collectHandlers([{ handlers }]));
    const seen = (ns: Uint8Array) => {
      const a = call(d, NS, body(ns));
      return a.status === Status.OK ? fromUtf8(payloadBytes(a.payload)) : `status ${a.status}`;
    };
    const shared = utf8('alpha');
    expect([seen(shared), seen(utf8('alpha')), seen(utf8('beta')), seen(EMPTY), seen(utf8('default'))]).toEqual(['alpha', 'alpha', 'beta', 'default', 'default']);
    expect(seen(utf8('_sys'))).toBe(`status ${Status.BadRequest}`);
    expect(seen(utf8('_sys'))).toBe(`status ${Status.BadRequest}`); // an invalid namespace is checked every time
    expect(seen(utf8('beta'))).toBe('beta');
    // The same bytes object changed in place between requests (a reused read buffer) is read afresh.
    shared.set(utf8('gamma'));
    expect(seen(shared)).toBe('gamma');
    shared.set(utf8('_bad_'));
    expect(seen(shared)).toBe(`status ${Status.BadRequest}`);
  });

  it('reads the options of each request (none, some, none again)', () => {
    const d = new Dispatcher(collectHandlers([{ handlers }]));
    const opts = (o: Uint8Array) => fromUtf8(payloadBytes(call(d, OPTS, body(EMPTY, o)).payload));
    expect(opts(EMPTY)).toBe('');
    expect(opts(new Uint8Array([1, 2, 9, 9, 3, 0]))).toBe('1:2,3:0');
    expect(opts(EMPTY)).toBe('');
  });

  it('passes a payload writer through, and answers INTERNAL_ERROR for a malformed one', () => {
    const d = new Dispatcher(collectHandlers([{ handlers }]));
    const a = call(d, WRITER, body(EMPTY));
    expect(a.status).toBe(Status.OK);
    expect([...payloadBytes(a.payload)]).toEqual([1, 2, 3]);
    const bad = call(d, BAD_WRITER, body(EMPTY));
    expect(bad.status).toBe(Status.InternalError);
    expect(fromUtf8(payloadBytes(bad.payload))).toContain('invalid reply');
  });

  it('counts a request from the start its caller passes, and reports when its answer was ready', () => {
    const recorded: number[] = [];
    const observer = { record: (_op: number, _status: number, seconds: number) => void recorded.push(seconds), parked: () => {} };
    const d = new Dispatcher(collectHandlers([{ handlers }]), () => {}, observer);
    const before = performance.now();
    const a = d.dispatch({ requestId: 1n, opcode: NS, body: body(EMPTY), signal, connectionId: 1 }, before - 5000);
    expect(a instanceof Promise).toBe(false);
    expect(recorded[0]).toBeGreaterThanOrEqual(5);
    expect(d.lastAnsweredAt).toBeGreaterThanOrEqual(before);
    call(d, NS, body(EMPTY)); // no start given: its own clock read
    expect(recorded[1]).toBeLessThan(5);
  });

  it('routes every opcode to its handler: low ones, ones above the direct table, and unknown ones between them', () => {
    const answer = (text: string): Handler => () => ok(utf8(text));
    const d = new Dispatcher(collectHandlers([{ handlers: new Map([[0x005, answer('low')], [0x7e0, answer('mid')], [0x9000, answer('high')], [0xffff, answer('top')]]) }]));
    const text = (opcode: number) => {
      const a = call(d, opcode, body(EMPTY));
      return a.status === Status.OK ? fromUtf8(payloadBytes(a.payload)) : `status ${a.status}`;
    };
    expect([0x005, 0x7e0, 0x9000, 0xffff].map(text)).toEqual(['low', 'mid', 'high', 'top']);
    for (const unknown of [0x006, 0x7df, 0x7e1, 0x8fff, 0x9001]) expect(text(unknown)).toBe(`status ${Status.BadRequest}`);
    expect(fromUtf8(payloadBytes(call(d, 0x7e1, body(EMPTY)).payload))).toBe('unknown opcode 0x7e1');
    // Ping (opcode 0) answers OK, empty, without a handler of its own.
    expect(text(0x000)).toBe('');
  });

  it('answers with an OkWriter reply itself (status OK, its bytes written by it)', () => {
    class Three extends OkWriter {
      readonly byteLength = 3;
      writeAt(t: Uint8Array, _v: DataView, at: number): void {
        t.set([7, 8, 9], at);
      }
    }
    const reply = new Three();
    const d = new Dispatcher(collectHandlers([{ handlers: new Map([[WRITER, () => reply]]) }]));
    const a = call(d, WRITER, body(EMPTY));
    expect(a).toBe(reply);
    expect(a.status).toBe(Status.OK);
    expect([...payloadBytes(a.payload)]).toEqual([7, 8, 9]);
  });
});
