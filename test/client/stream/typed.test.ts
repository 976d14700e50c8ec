import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { firstValueFrom, type Observable } from 'rxjs';
import type { GroupRecord, StreamRecord } from '../../../src/index.js';
import { streamWorker } from '../../../src/index.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';

interface Order {
  readonly id: string;
  readonly total: number;
}

// `stream.tail<Order>('orders')` gives records whose `data()` is an `Order` (checked by the
// type-check step of CI, and at run time against the embedded server).
describe('typed stream records', () => {
  let e: Embedded | undefined;
  afterEach(async () => {
    await e?.close();
    e = undefined;
  });

  it('carries the record type through read, tail, group, groupRead and streamWorker', async () => {
    e = await startEmbedded();
    const flo = e.client;
    await firstValueFrom(flo.stream.append('orders', { id: 'o-1', total: 42 }));

    const tail$ = flo.stream.tail<Order>('orders', { from: 'start' });
    expectTypeOf(tail$).toEqualTypeOf<Observable<StreamRecord<Order>>>();
    expectTypeOf(flo.stream.read<Order>('orders')).toEqualTypeOf<Observable<StreamRecord<Order>>>();
    expectTypeOf(flo.stream.group<Order>('orders', 'g')).toEqualTypeOf<Observable<GroupRecord<Order>>>();
    expectTypeOf(flo.stream.groupRead<Order>('orders', 'g', 'c')).toEqualTypeOf<Observable<GroupRecord<Order>>>();
    expectTypeOf(streamWorker<void, Order>).parameter(2).parameter(0).toEqualTypeOf<GroupRecord<Order>>();

    const rec = await firstValueFrom(tail$);
    expectTypeOf(rec.data()).toEqualTypeOf<Order>();
    expectTypeOf(rec.data<{ other: true }>()).toEqualTypeOf<{ other: true }>();
    const untyped = await firstValueFrom(flo.stream.read('orders'));
    expectTypeOf(untyped.data()).toBeUnknown();
    expect(rec.data().total).toBe(42);
    expect(untyped.data()).toEqual({ id: 'o-1', total: 42 });
  });
});
