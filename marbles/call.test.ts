import { describe, expect, it } from 'vitest';
import { catchError, of } from 'rxjs';
import { call } from '../src/client/core/call.js';
import {
  BadRequestError,
  ConnectionLostError,
  NotFoundError,
  ProtocolError,
  ServerError,
} from '../src/protocol/errors.js';
import { Op } from '../src/protocol/opcodes.js';
import { Status } from '../src/protocol/status.js';
import { fakeChannel, newScheduler, ok, reply } from './helpers.js';

const spec = { opcode: Op.KvGet, namespace: 'default', body: {} };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('call', () => {
  it('is cold: sends on subscribe, once per subscription, and maps an OK payload through decode', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const r = cold('--(r|)', { r: ok('hello') });
      const ch = fakeChannel(newScheduler(), () => r);
      const c$ = call(ch, spec, text);
      expect(ch.sent).toHaveLength(0);
      expectObservable(c$).toBe('--(v|)', { v: 'hello' });
      expectObservable(c$, '---^').toBe('-----(v|)', { v: 'hello' });
      expectSubscriptions(r.subscriptions).toBe(['^-!', '---^-!']);
    });
  });

  it('maps a non-OK status to the typed error with the payload text and the opcode', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const ch = fakeChannel(newScheduler(), () => cold('-(r|)', { r: reply(Status.BadRequest, 'key too long') }));
      const seen = call(ch, spec, text).pipe(
        catchError((e: unknown) => {
          expect(e).toBeInstanceOf(BadRequestError);
          const err = e as BadRequestError;
          expect(err.status).toBe(Status.BadRequest);
          expect(err.serverMessage).toBe('key too long');
          expect(err.opcode).toBe(Op.KvGet);
          return of('caught');
        }),
      );
      expectObservable(seen).toBe('-(c|)', { c: 'caught' });
    });
  });

  it('errors with NotFoundError on NOT_FOUND by default and emits null with { notFound: "null" }', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const ch = fakeChannel(newScheduler(), () => cold('-(r|)', { r: reply(Status.NotFound) }));
      // the wrong error type (or status) would fail: toEqual compares the error's class and fields
      expectObservable(call(ch, spec, text)).toBe('-#', undefined, new NotFoundError(Status.NotFound, '', Op.KvGet));
      expectObservable(call(ch, spec, text, { notFound: 'null' })).toBe('-(n|)', { n: null });
    });
  });

  it('an unknown status still errors, as a ServerError', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const ch = fakeChannel(newScheduler(), () => cold('-(r|)', { r: reply(99) }));
      expectObservable(call(ch, spec, text)).toBe('-#', undefined, new ServerError(99, '', Op.KvGet));
    });
  });

  it('passes a ProtocolError thrown by decode through unchanged', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const own = new ProtocolError('bad count');
      const ch = fakeChannel(newScheduler(), () => cold('-(r|)', { r: ok('x') }));
      expectObservable(
        call(ch, spec, () => {
          throw own;
        }),
      ).toBe('-#', undefined, own);
    });
  });

  it('passes channel errors (lost connection) through', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const lost = new ConnectionLostError('gone');
      const ch = fakeChannel(newScheduler(), () => cold('--#', undefined, lost));
      expectObservable(call(ch, spec, text)).toBe('--#', undefined, lost);
    });
  });
});

describe('call decode failure details', () => {
  it('wraps what decode threw as cause and names the opcode', () => {
    const boom = new RangeError('truncated');
    const ch = fakeChannel(newScheduler(), () => of(ok('x')));
    let error: unknown;
    call(ch, spec, () => {
      throw boom;
    }).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).cause).toBe(boom);
    expect((error as ProtocolError).message).toContain('0x101');
    expect((error as ProtocolError).message).toContain('truncated');
  });
});
