import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firstValueFrom, lastValueFrom, take, toArray } from 'rxjs';
import { InvalidArgumentError } from '../../../src/protocol/errors.js';
import { formatStreamId } from '../../../src/protocol/stream.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';
import { sleep, until } from '../../support/transport.js';
import { collect, recordedClient, text } from './helpers.js';

let env: Embedded;
beforeEach(async () => {
  env = await startEmbedded();
});
afterEach(async () => {
  await env.close();
});

const payloads = (records: readonly { payload: Uint8Array }[]) => records.map((r) => text(r.payload));

describe('stream.tail', () => {
  it("from 'end' (default): only records appended after subscribing, by another client", async () => {
    const writer = env.newClient();
    await firstValueFrom(writer.stream.append('t', 'old-1'));
    await firstValueFrom(writer.stream.append('t', 'old-2'));
    const r = recordedClient(env);
    const tail = collect(r.client.stream.tail('t'));
    // the position is resolved (info), then a long-poll parks
    await until(() => r.reads().length >= 1);
    for (const p of ['new-1', 'new-2', 'new-3']) await firstValueFrom(writer.stream.append('t', p));
    await until(() => tail.values.length >= 3);
    expect(payloads(tail.values)).toEqual(['new-1', 'new-2', 'new-3']);
    expect(r.requests()[0]!.opcode).toBe(0x133); // info first
    const reads = r.reads();
    expect(reads.every((q) => q.blockMs === 30_000 && !q.tail)).toBe(true);
    tail.sub.unsubscribe();
    expect(tail.error).toBeUndefined();
  });

  it("from 'start' replays, then follows; from an id is inclusive", async () => {
    const flo = env.client;
    const a = await firstValueFrom(flo.stream.append('t', 'a'));
    await firstValueFrom(flo.stream.append('t', 'b'));
    const all = collect(env.newClient().stream.tail('t', { from: 'start', pageSize: 1 }));
    const fromA = collect(env.newClient().stream.tail('t', { from: a }));
    await until(() => all.values.length === 2 && fromA.values.length === 2);
    await firstValueFrom(flo.stream.append('t', 'c'));
    await until(() => all.values.length === 3 && fromA.values.length === 3);
    expect(payloads(all.values)).toEqual(['a', 'b', 'c']);
    expect(payloads(fromA.values)).toEqual(['a', 'b', 'c']);
    all.sub.unsubscribe();
    fromA.sub.unsubscribe();
  });

  it('an idle tail parks its long-poll instead of spinning on the record start = lastId sends back', async () => {
    const flo = env.client;
    await firstValueFrom(flo.stream.append('idle', 'a'));
    const r = recordedClient(env);
    const tail = collect(r.client.stream.tail('idle', { from: 'start' }));
    await until(() => tail.values.length === 1);
    await sleep(100);
    // first read, one read that learns the server echoes `start`, one parked read
    expect(r.reads().length).toBeLessThanOrEqual(3);
    await firstValueFrom(flo.stream.append('idle', 'b'));
    await until(() => tail.values.length === 2);
    expect(payloads(tail.values)).toEqual(['a', 'b']);
    tail.sub.unsubscribe();
  });

  it('resumes after the socket drops: no gap, no duplicate, restarting from the last id', async () => {
    const writer = env.newClient();
    const r = recordedClient(env);
    let reconnects = 0;
    r.client.core.channel.reconnected$.subscribe(() => reconnects++);
    const tail = collect(r.client.stream.tail('live', { pageSize: 10 }));
    await until(() => r.reads().length >= 1);
    await firstValueFrom(writer.stream.append('live', 'a'));
    const bId = await firstValueFrom(writer.stream.append('live', 'b'));
    await until(() => tail.values.length === 2);
    const readsBefore = r.reads().length;

    r.dropSocket(); // the parked long-poll fails with ConnectionLostError
    for (const p of ['c', 'd']) await firstValueFrom(writer.stream.append('live', p)); // while it is down
    await until(() => reconnects === 1);
    await until(() => tail.values.length === 4);
    await firstValueFrom(writer.stream.append('live', 'e'));
    await until(() => tail.values.length === 5);

    expect(payloads(tail.values)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const ids = tail.values.map((v) => formatStreamId(v.id));
    expect(new Set(ids).size).toBe(5);
    // the first read after the reconnect starts at the last id emitted (inclusive, dropped)
    const after = r.reads().slice(readsBefore);
    const firstAfter = after.find((q) => q.start && formatStreamId(q.start) === formatStreamId(bId));
    expect(firstAfter).toBeDefined();
    expect(tail.error).toBeUndefined();
    tail.sub.unsubscribe();
  });

  it('take(n) ends it; blockMs 0 is refused', async () => {
    const flo = env.client;
    const first = lastValueFrom(env.newClient().stream.tail('tk', { from: 'start' }).pipe(take(2), toArray()));
    await firstValueFrom(flo.stream.append('tk', '1'));
    await firstValueFrom(flo.stream.append('tk', '2'));
    await firstValueFrom(flo.stream.append('tk', '3'));
    expect(payloads(await first)).toEqual(['1', '2']);
    await expect(firstValueFrom(flo.stream.tail('tk', { blockMs: 0 }))).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
