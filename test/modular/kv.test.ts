// The modular KV functions (src/modular/kv.ts) over real sockets against the embedded server, on
// WebSocket (the default transport) and on TCP (the `transport` option): the same results and
// typed errors as `flo.kv`, cold and cancellable.
import { beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { connect } from '../../src/node.js';
import { msgpackCodec } from '../../src/msgpack.js';
import { embeddedContexts } from './helpers.js';
import {
  BadRequestError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  isConflict,
} from '../../src/index.js';
import { kvDelete, kvExists, kvGet, kvIncr, kvPut, type FloContext } from '../../src/modular/index.js';

const enc = new TextEncoder();

describe.each(['ws', 'tcp'] as const)('modular kv over %s', (transport) => {
  const { server, open } = embeddedContexts(transport);
  let flo: FloContext;

  beforeAll(() => {
    flo = open();
  });

  it('is lazy and cold: nothing is sent before subscribe; each subscription sends again', async () => {
    const lazy = open();
    const states: string[] = [];
    lazy.state$.subscribe((s) => states.push(s));
    const put$ = kvPut(lazy, 'cold', 'v');
    expect(states).toEqual(['idle']);
    expect(await firstValueFrom(kvGet(flo, 'cold'))).toBeNull();
    expect((await firstValueFrom(put$)).version).toBe(1n);
    expect((await firstValueFrom(put$)).version).toBe(2n);
    expect(states).toEqual(['idle', 'connecting', 'connected']);
  });

  it('put/get round-trips bytes untouched, strings as UTF-8, objects through the codec', async () => {
    const bytes = new Uint8Array([0, 255, 1, 2]);
    await firstValueFrom(kvPut(flo, 'bytes', bytes));
    expect((await firstValueFrom(kvGet(flo, 'bytes')))!.value).toEqual(bytes);
    await firstValueFrom(kvPut(flo, 'str', 'héllo'));
    const s = (await firstValueFrom(kvGet(flo, 'str')))!;
    expect(s.value).toEqual(enc.encode('héllo'));
    expect(s.text()).toBe('héllo');
    await firstValueFrom(kvPut(flo, 'obj', { a: 1, b: [true] }));
    const o = (await firstValueFrom(kvGet(flo, 'obj')))!;
    expect(o.data<{ a: number }>()).toEqual({ a: 1, b: [true] });
    expect(o.key).toBe('obj');
    expect(o.version).toBe(1n);
    expect(Object.keys(o)).toEqual(['key', 'value', 'version']);
    await firstValueFrom(kvPut(flo, enc.encode('bin-key'), 'x'));
    expect((await firstValueFrom(kvGet(flo, 'bin-key')))!.text()).toBe('x');
  });

  it('writes and reads the same keys as a FloClient on the same namespace and codec', async () => {
    const other = open({ namespace: 'shared-ns', codec: msgpackCodec });
    const client = connect(transport === 'ws' ? server().wsUrl : `127.0.0.1:${server().port}`, { namespace: 'shared-ns', codec: msgpackCodec });
    try {
      await firstValueFrom(kvPut(other, 'both', { n: 7 }));
      expect((await firstValueFrom(client.kv.get('both')))!.data()).toEqual({ n: 7 });
      await firstValueFrom(client.kv.put('both', { n: 8 }));
      const entry = (await firstValueFrom(kvGet(other, 'both')))!;
      expect(entry.data()).toEqual({ n: 8 });
      expect(entry.version).toBe(2n);
    } finally {
      await client.close();
    }
  });

  it('per-call namespace isolates keys; per-call timeoutMs is accepted', async () => {
    await firstValueFrom(kvPut(flo, 'k', 'in-a', { namespace: 'ns-a' }));
    await firstValueFrom(kvPut(flo, 'k', 'in-b', { namespace: 'ns-b', timeoutMs: 2000 }));
    expect((await firstValueFrom(kvGet(flo, 'k', { namespace: 'ns-a' })))!.text()).toBe('in-a');
    expect((await firstValueFrom(kvGet(flo, 'k', { namespace: 'ns-b' })))!.text()).toBe('in-b');
    expect(await firstValueFrom(kvGet(flo, 'k'))).toBeNull();
  });

  it('put conditions and CAS: failed conditions are ConflictError and change nothing', async () => {
    await expect(firstValueFrom(kvPut(flo, 'xx', 'v', { ifExists: true }))).rejects.toBeInstanceOf(ConflictError);
    const { version } = await firstValueFrom(kvPut(flo, 'xx', 'v', { ifNotExists: true }));
    await expect(firstValueFrom(kvPut(flo, 'xx', 'z', { ifNotExists: true }))).rejects.toSatisfy(isConflict);
    await expect(firstValueFrom(kvPut(flo, 'xx', 'z', { casVersion: version + 1n }))).rejects.toSatisfy(isConflict);
    expect((await firstValueFrom(kvPut(flo, 'xx', 'w', { casVersion: version }))).version).toBe(version + 1n);
    expect((await firstValueFrom(kvGet(flo, 'xx')))!.text()).toBe('w');
  });

  it('delete: idempotent without ifMatch; with ifMatch a wrong version conflicts and a missing key is NotFound', async () => {
    await expect(firstValueFrom(kvDelete(flo, 'never-there'))).resolves.toBeUndefined();
    const { version } = await firstValueFrom(kvPut(flo, 'dm', 'v'));
    await expect(firstValueFrom(kvDelete(flo, 'dm', { ifMatch: version + 1n }))).rejects.toSatisfy(isConflict);
    expect(await firstValueFrom(kvExists(flo, 'dm'))).toBe(true);
    await firstValueFrom(kvDelete(flo, 'dm', { ifMatch: version }));
    expect(await firstValueFrom(kvExists(flo, 'dm'))).toBe(false);
    await expect(firstValueFrom(kvDelete(flo, 'dm', { ifMatch: version }))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('incr: default +1, negative deltas, bigint results; overflow is a BadRequestError', async () => {
    expect(await firstValueFrom(kvIncr(flo, 'ctr'))).toBe(1n);
    expect(await firstValueFrom(kvIncr(flo, 'ctr', { delta: -5n }))).toBe(-4n);
    expect(await firstValueFrom(kvIncr(flo, 'big', { delta: (1n << 63n) - 1n }))).toBe((1n << 63n) - 1n);
    await expect(firstValueFrom(kvIncr(flo, 'big'))).rejects.toBeInstanceOf(BadRequestError);
    expect(await firstValueFrom(kvIncr(flo, 'big', { delta: 0 }))).toBe((1n << 63n) - 1n);
  });

  it('bad arguments are InvalidArgumentError on subscribe, before anything is sent', async () => {
    const fresh = open();
    const states: string[] = [];
    fresh.state$.subscribe((s) => states.push(s));
    await expect(firstValueFrom(kvGet(fresh, ''))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvGet(fresh, 'k', { blockMs: 300_001 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvPut(fresh, 'k', undefined))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvPut(fresh, 'k', 'v', { ttlSeconds: -1 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvPut(fresh, 'a\0b', 'v'))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvIncr(fresh, 'k', { delta: 1.5 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvDelete(fresh, 'k', { ifMatch: -1 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(kvPut(fresh, 'k', 'v', { namespace: 'n'.repeat(300) }))).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(states).toEqual(['idle']);
  });

  it('get with blockMs waits for the key; unsubscribing a waiting get leaves the connection usable', async () => {
    const waiting = firstValueFrom(kvGet(flo, 'appears', { blockMs: 10_000 }));
    await firstValueFrom(kvGet(flo, 'warm-up')); // the waiting get is on the server by now
    await firstValueFrom(kvPut(flo, 'appears', 'here'));
    expect((await waiting)!.text()).toBe('here');

    const sub = kvGet(flo, 'never', { blockMs: 10_000 }).subscribe();
    sub.unsubscribe();
    expect(await lastValueFrom(kvExists(flo, 'appears').pipe(toArray()))).toEqual([true]);
  });
});
