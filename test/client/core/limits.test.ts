import { firstValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodecError, FloError, InvalidArgumentError, jsonCodec, KV_MAX_ENTRY_PAYLOAD, KV_MAX_QUALIFIED_KEY, MAX_VALUE_BYTES } from '../../../src/node.js';
import * as serverKv from '../../../src/server/kv/store.js';
import { startEmbedded, type Embedded } from '../../support/embedded.js';

let env: Embedded;
/** Frames the checked client sent (from its `debug` hook). */
const sent: string[] = [];
let flo: Embedded['client'];

beforeAll(async () => {
  env = await startEmbedded();
  flo = env.newClient({ namespace: 'limits', debug: (line) => line.includes('→') && sent.push(line) });
  await flo.connect();
});
afterAll(() => env.close());

/** Expects `op` to fail with InvalidArgumentError (message matching) without sending a frame. */
async function refusedBeforeSending(op: () => Promise<unknown>, message: RegExp): Promise<void> {
  const before = sent.length;
  const err = await op().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect((err as Error).message).toMatch(message);
  expect(sent.length).toBe(before);
}

describe('KV limits, checked before sending', () => {
  it('the client enforces the same limits as the server', () => {
    expect(KV_MAX_QUALIFIED_KEY).toBe(serverKv.KV_MAX_QUALIFIED_KEY);
    expect(KV_MAX_ENTRY_PAYLOAD).toBe(serverKv.KV_MAX_ENTRY_PAYLOAD);
  });

  it('a key whose namespace + NUL + key exceeds 4096 bytes is refused; one byte less is stored', async () => {
    const fits = 'k'.repeat(KV_MAX_QUALIFIED_KEY - 'limits'.length - 1);
    await refusedBeforeSending(() => firstValueFrom(flo.kv.put(fits + 'k', 'v')), /key too long: 4090 bytes/);
    await expect(firstValueFrom(flo.kv.put(fits, 'v'))).resolves.toEqual({ version: 1n });
  });

  it('a value over the entry limit is refused; the largest that fits is stored by the server', async () => {
    const key = 'big';
    const max = KV_MAX_ENTRY_PAYLOAD - 10 - ('limits'.length + 1 + key.length);
    await refusedBeforeSending(() => firstValueFrom(flo.kv.put(key, new Uint8Array(max + 1))), new RegExp(`value too large for a KV entry: ${max + 1} bytes \\(max ${max} `));
    await expect(firstValueFrom(flo.kv.put(key, new Uint8Array(max)))).resolves.toEqual({ version: 1n });
  });

  it('a key with a NUL byte is refused', async () => {
    await refusedBeforeSending(() => firstValueFrom(flo.kv.put('a\0b', 'v')), /NUL/);
  });

  it('inside a transaction too', async () => {
    const err = await firstValueFrom(flo.kv.transaction('t', (txn) => txn.put('t', new Uint8Array(300 * 1024)))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
  });
});

describe('limits of every request', () => {
  it('a queue message over 16 MiB is refused before sending', async () => {
    await refusedBeforeSending(() => firstValueFrom(flo.queue.enqueue('q', new Uint8Array(MAX_VALUE_BYTES + 1))), /value too large: 16777217 bytes/);
  });

  it('a namespace over 255 bytes is refused before sending', async () => {
    await refusedBeforeSending(() => firstValueFrom(flo.kv.get('k', { namespace: 'n'.repeat(256) })), /namespace too long: 256 bytes \(max 255\)/);
    await refusedBeforeSending(() => firstValueFrom(flo.kv.get('k', { namespace: 'é'.repeat(128) })), /namespace too long: 256 bytes/);
  });
});

describe('undefined values', () => {
  it('kv.put, queue.enqueue and stream.append refuse undefined (a forgotten argument) before sending', async () => {
    await refusedBeforeSending(() => firstValueFrom(flo.kv.put('u', undefined)), /value must not be undefined/);
    await refusedBeforeSending(() => firstValueFrom(flo.queue.enqueue('q', undefined)), /payload must not be undefined/);
    await refusedBeforeSending(() => firstValueFrom(flo.stream.append('s', undefined)), /payload must not be undefined/);
    expect(await firstValueFrom(flo.kv.get('u'))).toBeNull();
  });

  it('null, an empty string and empty bytes are values', async () => {
    await firstValueFrom(flo.kv.put('n', null));
    expect((await firstValueFrom(flo.kv.get('n')))?.data()).toBeNull();
    await firstValueFrom(flo.kv.put('e', ''));
    expect((await firstValueFrom(flo.kv.get('e')))?.value.length).toBe(0);
  });
});

describe('CodecError', () => {
  it('is a FloError', () => {
    let err: unknown;
    try {
      jsonCodec.encode(1n);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CodecError);
    expect(err).toBeInstanceOf(FloError);
    expect((err as CodecError).codec).toBe('json');
  });
});
