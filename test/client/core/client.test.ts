import { describe, expect, it, vi } from 'vitest';
import { BehaviorSubject, firstValueFrom, NEVER, Observable, of, Subject } from 'rxjs';
import { FloClient, type ClientChannel } from '../../../src/client/client.js';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import { createLease } from '../../../src/client/core/lease.js';
import type { Settler } from '../../../src/client/core/settler.js';
import { settlesOf } from '../../../src/client/core/settles.js';
import { checkBlockMs } from '../../../src/client/core/block-ms.js';
import { jsonCodec, textCodec } from '../../../src/codec/index.js';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';
import type { ResponseFrame } from '../../../src/protocol/frame.js';

function channel(extra: Partial<ClientChannel> = {}): ClientChannel & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    state$: new BehaviorSubject('idle' as const),
    reconnected$: NEVER,
    request: () => NEVER as Observable<ResponseFrame>,
    ...extra,
  };
}

describe('FloClient', () => {
  it('defaults: namespace "default", JSON codec; ns() resolves per-call overrides', () => {
    const flo = new FloClient(channel());
    expect(flo.namespace).toBe('default');
    expect(flo.codec).toBe(jsonCodec);
    expect(flo.ns()).toBe('default');
    expect(flo.ns({ namespace: 'other' })).toBe('other');
    const custom = new FloClient(channel(), { namespace: 'app', codec: textCodec, timeoutMs: 5000 });
    expect(custom.ns({})).toBe('app');
    expect(custom.codec).toBe(textCodec);
  });

  it('builds request specs with the resolved namespace and timeout', () => {
    const flo = new FloClient(channel(), { namespace: 'app', timeoutMs: 5000 });
    expect(flo.core.spec(0x101, { key: new Uint8Array([1]) })).toEqual({
      opcode: 0x101,
      namespace: 'app',
      body: { key: new Uint8Array([1]) },
      timeoutMs: 5000,
    });
    const late = () => undefined;
    expect(flo.core.spec(0x175, {}, { namespace: 'x', timeoutMs: 10, blockMs: 30_000, onLateReply: late })).toEqual({
      opcode: 0x175,
      namespace: 'x',
      body: {},
      timeoutMs: 10,
      blockMs: 30_000,
      onLateReply: late,
    });
    expect(new FloClient(channel()).core.spec(1, {})).not.toHaveProperty('timeoutMs');
  });

  it('refuses an empty namespace and a bad timeout', () => {
    expect(() => new FloClient(channel(), { namespace: '' })).toThrow(InvalidArgumentError);
    expect(() => new FloClient(channel(), { timeoutMs: 0 })).toThrow(InvalidArgumentError);
  });

  it('exposes the channel state and delegates connect()', async () => {
    const connect = vi.fn(async () => undefined);
    const ch = channel({ connect });
    const flo = new FloClient(ch);
    expect(await firstValueFrom(flo.state$)).toBe('idle');
    await flo.connect();
    expect(connect).toHaveBeenCalledTimes(1);
    await new FloClient(channel()).connect(); // a channel without connect() is fine
  });

  it('close() flushes pending settles and waits for them before closing the channel, once', async () => {
    const order: string[] = [];
    const ackDone = new Subject<void>();
    const settler: Settler<number> = {
      ack: (ids) =>
        new Observable((s) => {
          order.push(`ack ${ids.join(',')}`);
          return ackDone.subscribe(s);
        }),
      nack: () => of(undefined),
      touch: () => of(undefined),
    };
    const close = vi.fn(async () => {
      order.push('close');
    });
    const flo = new FloClient(channel({ close }));
    const lease = createLease(1, settler, { leaseMs: 100, coalescer: settlesOf(flo.core) });
    const lease2 = createLease(2, settler, { leaseMs: 100, coalescer: settlesOf(flo.core) });
    lease.ack().subscribe();
    lease2.ack().subscribe();
    expect(settlesOf(flo.core).pending).toBe(2);
    const closing = flo.close();
    expect(flo.close()).toBe(closing);
    await Promise.resolve();
    expect(order).toEqual(['ack 1,2']); // sent at once, not after the tick; close waits for the reply
    ackDone.complete();
    await closing;
    expect(order).toEqual(['ack 1,2', 'close']);
    expect(close).toHaveBeenCalledTimes(1);
  });
});

describe('SettleCoalescer (real asap scheduler)', () => {
  it('flushes at the end of the tick: one request for the acks of one synchronous run', async () => {
    const calls: number[][] = [];
    const settler: Settler<number> = {
      ack: (ids) => {
        calls.push([...ids]);
        return of(undefined);
      },
      nack: () => of(undefined),
      touch: () => of(undefined),
    };
    const c = new SettleCoalescer();
    const done = Promise.all([1, 2, 3].map((id) => firstValueFrom(c.ack(settler, id))));
    expect(calls).toEqual([]);
    await done;
    expect(calls).toEqual([[1, 2, 3]]);
    await firstValueFrom(c.ack(settler, 4));
    expect(calls).toEqual([[1, 2, 3], [4]]);
  });
});

describe('checkBlockMs', () => {
  it('defaults to 30 s, allows 0 only when asked, refuses more than 300 s and fractions', () => {
    expect(checkBlockMs(undefined)).toBe(30_000);
    expect(checkBlockMs(300_000)).toBe(300_000);
    expect(checkBlockMs(0, { allowZero: true })).toBe(0);
    expect(() => checkBlockMs(0)).toThrow(InvalidArgumentError);
    expect(() => checkBlockMs(300_001)).toThrow(/300000/);
    expect(() => checkBlockMs(1.5)).toThrow(InvalidArgumentError);
    expect(() => checkBlockMs(-1, { allowZero: true })).toThrow(InvalidArgumentError);
    expect(() => checkBlockMs(Number.POSITIVE_INFINITY)).toThrow(InvalidArgumentError);
  });
});
