// The per-call path (`call` / `lazyCall`): the channel's `submit` fast path, cancellation before the
// reply (fake channel, and a real socket against a fake server), and retry waits that stay
// cancellable when the channel fails at once.
import { afterEach, describe, expect, it } from 'vitest';
import { config, firstValueFrom, NEVER, Subject, VirtualTimeScheduler, type Unsubscribable } from 'rxjs';
import { call, lazyCall } from '../../../src/client/core/call.js';
import type { ReplySink, RequestChannel, RequestSpec } from '../../../src/connection/types.js';
import { connect, InvalidArgumentError, OverloadedError, type FloClient } from '../../../src/node.js';
import { Op, Status, encodeKvGetReply, fromUtf8, utf8, type ResponseFrame } from '../../../src/protocol/index.js';
import { FakeServer } from '../../support/fake-server.js';

const spec: RequestSpec = { opcode: Op.KvGet, namespace: 'default', body: { key: utf8('k') } };
const frame = (status: number, payload: Uint8Array = new Uint8Array(0)): ResponseFrame => ({ requestId: 1n, status, flags: 0, payload });

/** A channel with the `submit` fast path only (its `request` must not be used). */
function submitChannel() {
  const sinks: ReplySink[] = [];
  const cancelled: number[] = [];
  const channel: Pick<RequestChannel, 'request' | 'submit'> = {
    request: () => {
      throw new Error('request() used although submit() exists');
    },
    submit: (_spec, sink): Unsubscribable => {
      const n = sinks.push(sink) - 1;
      return { unsubscribe: () => void cancelled.push(n) };
    },
  };
  return { channel, sinks, cancelled };
}

describe('call over a channel with submit()', () => {
  it('sends on subscribe only, once per subscription, and decodes the OK reply', () => {
    const { channel, sinks } = submitChannel();
    const c$ = call(channel, spec, fromUtf8);
    expect(sinks).toHaveLength(0);
    const seen: unknown[] = [];
    c$.subscribe({ next: (v) => seen.push(v), complete: () => seen.push('done') });
    c$.subscribe();
    expect(sinks).toHaveLength(2);
    sinks[0]!.next(frame(Status.OK, utf8('hello')));
    sinks[0]!.complete();
    expect(seen).toEqual(['hello', 'done']);
  });

  it('unsubscribing before the reply cancels the request; after the reply it cancels nothing', () => {
    const { channel, sinks, cancelled } = submitChannel();
    const sub = call(channel, spec, fromUtf8).subscribe();
    sub.unsubscribe();
    expect(cancelled).toEqual([0]);
    call(channel, spec, fromUtf8).subscribe();
    sinks[1]!.next(frame(Status.OK, utf8('x')));
    sinks[1]!.complete();
    expect(cancelled).toEqual([0, 1]); // the teardown runs, the channel ignores a settled request
  });

  it('maps NOT_FOUND to null or to NotFoundError, and a throwing decoder to a ProtocolError', async () => {
    const { channel, sinks } = submitChannel();
    const nul = firstValueFrom(call(channel, spec, fromUtf8, { notFound: 'null' }));
    sinks[0]!.next(frame(Status.NotFound));
    await expect(nul).resolves.toBeNull();
    const bad = firstValueFrom(
      call(channel, spec, () => {
        throw new RangeError('short');
      }),
    );
    sinks[1]!.next(frame(Status.OK));
    await expect(bad).rejects.toMatchObject({ name: 'ProtocolError', cause: expect.any(RangeError) });
  });

  it('lazyCall builds the spec on subscribe: an argument error is the error of the Observable, nothing sent', async () => {
    const { channel, sinks } = submitChannel();
    const c$ = lazyCall(
      channel,
      () => {
        throw new InvalidArgumentError('bad key');
      },
      fromUtf8,
      false,
    );
    await expect(firstValueFrom(c$)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(sinks).toHaveLength(0);
  });

  it('a retry wait started by a channel failing at once is kept, and unsubscribing cancels it', () => {
    const scheduler = new VirtualTimeScheduler();
    let sent = 0;
    const channel: Pick<RequestChannel, 'request' | 'submit'> = {
      request: () => NEVER,
      submit: (_spec, sink) => {
        sent++;
        sink.error(new OverloadedError(Status.Overloaded, 'busy', Op.KvGet));
        return undefined;
      },
    };
    const policy = { retries: 3, minDelayMs: 10, maxDelayMs: 10, nonIdempotent: false };
    const errors: unknown[] = [];
    const sub = call(channel, spec, fromUtf8, {}, { policy, scheduler }).subscribe({ error: (e) => errors.push(e) });
    expect(sent).toBe(1);
    sub.unsubscribe(); // during the first wait
    scheduler.flush();
    expect(sent).toBe(1);
    expect(errors).toEqual([]);

    call(channel, spec, fromUtf8, {}, { policy, scheduler }).subscribe({ error: (e) => errors.push(e) });
    scheduler.flush();
    expect(sent).toBe(1 + 4); // the first send and 3 resends
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(OverloadedError);
  });
});

describe('call over a channel with request() only', () => {
  afterEach(() => {
    config.useDeprecatedNextContext = false;
  });

  /** A channel without `submit`: each request is a Subject the test answers. */
  function requestChannel() {
    const replies: Subject<ResponseFrame>[] = [];
    const channel: Pick<RequestChannel, 'request' | 'submit'> = {
      request: () => {
        const reply = new Subject<ResponseFrame>();
        replies.push(reply);
        return reply;
      },
    };
    return { channel, replies };
  }

  // rxjs's deprecated `useDeprecatedNextContext` calls an observer's methods on a copy of the
  // observer object: the call's own state must not depend on which object `this` is.
  for (const deprecatedContext of [false, true]) {
    it(`decodes a reply, maps a status to its error and retries (useDeprecatedNextContext ${deprecatedContext})`, async () => {
      config.useDeprecatedNextContext = deprecatedContext;
      const { channel, replies } = requestChannel();
      const ok = firstValueFrom(call(channel, spec, fromUtf8));
      replies[0]!.next(frame(Status.OK, utf8('v')));
      await expect(ok).resolves.toBe('v');

      const missing = firstValueFrom(call(channel, spec, fromUtf8, { notFound: 'null' }));
      replies[1]!.next(frame(Status.NotFound));
      await expect(missing).resolves.toBeNull();

      const scheduler = new VirtualTimeScheduler();
      const policy = { retries: 1, minDelayMs: 10, maxDelayMs: 10, nonIdempotent: false };
      const values: unknown[] = [];
      call(channel, spec, fromUtf8, {}, { policy, scheduler }).subscribe({ next: (v) => values.push(v) });
      replies[2]!.error(new OverloadedError(Status.Overloaded, 'busy', Op.KvGet));
      scheduler.flush();
      expect(replies).toHaveLength(4); // resent once
      replies[3]!.next(frame(Status.OK, utf8('again')));
      expect(values).toEqual(['again']);
    });
  }
});

describe('kv.get over a real socket', () => {
  let server: FakeServer | undefined;
  let flo: FloClient | undefined;
  afterEach(async () => {
    await flo?.close();
    await server?.stop();
  });

  it('unsubscribing before the reply forgets the request; the late reply reaches nobody', async () => {
    server = await FakeServer.start({ handler: () => 'hang' });
    flo = connect(server.endpoint);
    const seen: unknown[] = [];
    const sub = flo.kv.get('k').subscribe({ next: (v) => seen.push(v), error: (e) => seen.push(e), complete: () => seen.push('done') });
    const [req] = await server.waitForRequests(1);
    const connection = (flo as unknown as { channel_: { pendingCount: number } }).channel_;
    expect(connection.pendingCount).toBe(1);
    sub.unsubscribe();
    expect(connection.pendingCount).toBe(0);
    req!.reply(Status.OK, encodeKvGetReply({ value: utf8('v'), version: 1n }));
    // The connection still works, and the late reply went to no one.
    server.handler = () => ({ payload: encodeKvGetReply({ value: utf8('w'), version: 2n }) });
    const entry = await firstValueFrom(flo.kv.get('k'));
    expect(entry?.text()).toBe('w');
    expect(seen).toEqual([]);
  });
});
