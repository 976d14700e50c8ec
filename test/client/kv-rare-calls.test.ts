import { describe, expect, it } from 'vitest';
import { type Subscription } from 'rxjs';
import { InvalidArgumentError, Op } from '../../src/protocol/index.js';
import { recordingClient, until } from '../support/recording-client.js';

// The rarer KV calls (kv-rare-calls.ts) load at their first subscription; their argument checks
// stay in KvApi, so they still fail at subscription, before the module is fetched.
describe('KvApi: calls loaded on first use', () => {
  it('unsubscribing while the code loads sends nothing; the next subscription sends once loaded', async () => {
    const { flo, sent } = recordingClient();
    const sub: Subscription = flo.kv.history('k').subscribe();
    sub.unsubscribe();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    flo.kv.history('k').subscribe();
    await until(() => sent.length > 0);
    expect(sent).toEqual([Op.KvHistory]);
    // Loaded: later calls send synchronously, as before the split.
    flo.kv.json.get('k', '$.a').subscribe();
    flo.kv.scanPage('p').subscribe();
    expect(sent).toEqual([Op.KvHistory, Op.KvJsonGet, Op.KvScan]);
  });

  it('argument errors arrive synchronously at subscription, and nothing is sent', () => {
    const { flo, sent } = recordingClient();
    const errors: unknown[] = [];
    const collect = { error: (e: unknown) => errors.push(e) };
    flo.kv.scan('p', { pageSize: 0 }).subscribe(collect);
    flo.kv.scanPage('p', { limit: 1.5 }).subscribe(collect);
    flo.kv.history('k', { limit: -1 }).subscribe(collect);
    flo.kv.history('').subscribe(collect);
    flo.kv.json.set('k', '$', undefined).subscribe(collect);
    flo.kv.json.del(42 as unknown as string, '$').subscribe(collect);
    flo.kv.transaction('', () => undefined).subscribe(collect);
    flo.kv.begin(new Uint8Array(0)).subscribe(collect);
    expect(errors).toHaveLength(8);
    for (const e of errors) expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(String(errors[6])).toContain('routingKey');
    expect(sent).toEqual([]);
  });
});
