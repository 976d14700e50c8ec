import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Op } from '../../src/protocol/index.js';
import { recordingClient, until } from '../support/recording-client.js';

// kv.watch's rounds (kv-watch.ts) load at its first subscription, with the rarer KV calls; its
// argument checks stay in KvApi, so they still fail at subscription, before the module is fetched.
// (The watch's behaviour over a real server: test/client/kv/watch.test.ts; its timing: marbles.)
describe('kv.watch: code loaded on first use', () => {
  it('before the code loaded, argument errors arrive synchronously at subscription; a valid watch sends its first round once loaded', async () => {
    const { flo, sent } = recordingClient();
    const errors: unknown[] = [];
    const collect = { error: (e: unknown) => errors.push(e) };
    flo.kv.watch('').subscribe(collect);
    flo.kv.watch('k', { pollMs: 0 }).subscribe(collect);
    flo.kv.watch('k', { pollMs: 300_001 }).subscribe(collect);
    expect(errors).toHaveLength(3);
    for (const e of errors) expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(sent).toEqual([]);
    const sub = flo.kv.watch('k').subscribe(collect);
    expect(sent).toEqual([]); // the code is loading
    await until(() => sent.length >= 2);
    expect(sent).toEqual([Op.KvGet, Op.KvGet]); // the watch (a get with WaitMS), then the plain get
    sub.unsubscribe();
    expect(errors).toHaveLength(3);
    // Loaded: a later watch sends its round synchronously, as before the split.
    flo.kv.watch('k2').subscribe(collect).unsubscribe();
    expect(sent).toEqual([Op.KvGet, Op.KvGet, Op.KvGet, Op.KvGet]);
  });
});
