import { describe, expect, it } from 'vitest';
import { defer, firstValueFrom, Subject, throwError, of, type Observable } from 'rxjs';
import { SettleCoalescer } from '../../../src/client/core/coalescer.js';
import type { Settler } from '../../../src/client/core/settler.js';
import { ConnectionLostError, NotFoundError } from '../../../src/protocol/errors.js';

/** A settler whose ack fails with the given errors first, then succeeds. */
function flakySettler(failures: unknown[]): Settler<number> & { calls: number[][] } {
  const calls: number[][] = [];
  const fail = (): Observable<void> => throwError(() => failures.shift());
  const settle = (ids: readonly number[]) =>
    defer(() => {
      calls.push([...ids]);
      return failures.length ? fail() : of(undefined);
    });
  return { calls, ack: settle, nack: settle, touch: settle };
}

describe('SettleCoalescer resend policy', () => {
  it('sends a settle lost with the connection again once the policy says the connection is back', async () => {
    const back = new Subject<void>();
    const coalescer = new SettleCoalescer({
      resend: (err, attempt) => (err instanceof ConnectionLostError && attempt <= 3 ? back : undefined),
    });
    const settler = flakySettler([new ConnectionLostError('socket closed')]);
    const acked = firstValueFrom(coalescer.ack(settler, 7));
    await new Promise((r) => setImmediate(r));
    expect(settler.calls).toEqual([[7]]);
    back.next();
    await expect(acked).resolves.toBeUndefined();
    expect(settler.calls).toEqual([[7], [7]]);
  });

  it('reports errors the policy does not resend, and gives up after the policy stops', async () => {
    const coalescer = new SettleCoalescer({
      resend: (err, attempt) => (err instanceof ConnectionLostError && attempt <= 1 ? of(0) : undefined),
    });
    const notFound = flakySettler([new NotFoundError(2, '')]);
    await expect(firstValueFrom(coalescer.ack(notFound, 1))).rejects.toBeInstanceOf(NotFoundError);
    expect(notFound.calls).toHaveLength(1);
    const twice = flakySettler([new ConnectionLostError('a'), new ConnectionLostError('b')]);
    await expect(firstValueFrom(coalescer.ack(twice, 2))).rejects.toThrow('b');
    expect(twice.calls).toHaveLength(2);
  });

  it('flush() makes settles waiting for a resend give up instead of waiting forever', async () => {
    const never = new Subject<void>();
    const coalescer = new SettleCoalescer({ resend: () => never });
    const settler = flakySettler([new ConnectionLostError('gone')]);
    const acked = firstValueFrom(coalescer.ack(settler, 3));
    await new Promise((r) => setImmediate(r));
    await coalescer.flush();
    await expect(acked).rejects.toBeInstanceOf(ConnectionLostError);
  });
});
