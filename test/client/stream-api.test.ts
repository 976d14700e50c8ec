import { describe, expect, it } from 'vitest';
import { StreamApi } from '../../src/client/stream-api.js';
import { InvalidArgumentError, Op } from '../../src/protocol/index.js';
import { recordingClient, until } from '../support/recording-client.js';

const id = { timestampMs: 1n, sequence: 0n };

// StreamApi (stream-api.ts) keeps the docs and argument checks; the calls' code (stream.ts) loads
// at the first subscription. The tests run in order: the first one runs before the code loaded.
describe('StreamApi: calls loaded on first use', () => {
  it('before the code loaded, argument errors arrive synchronously at subscription, and nothing is sent', async () => {
    const { flo, sent } = recordingClient();
    expect(flo.stream).toBeInstanceOf(StreamApi);
    const errors: unknown[] = [];
    const collect = { error: (e: unknown) => errors.push(e) };
    flo.stream.append('', 'x').subscribe(collect);
    flo.stream.read('s', { pageSize: 0 }).subscribe(collect);
    flo.stream.tail('', {}).subscribe(collect);
    flo.stream.info('').subscribe(collect);
    flo.stream.trim('s', { maxLen: -1 }).subscribe(collect);
    flo.stream.group('s', '').subscribe(collect);
    flo.stream.group('s', 'g', { ackTimeoutMs: 0 }).subscribe(collect);
    flo.stream.groupRead('s', 'g', 'c', { count: 1001 }).subscribe(collect);
    flo.stream.groupAck('', 'g', [id]).subscribe(collect);
    flo.stream.groupNack('s', '', [id]).subscribe(collect);
    flo.stream.groupTouch('', 'g', [id]).subscribe(collect);
    flo.stream.groupJoin('s', '', 'c').subscribe(collect);
    flo.stream.groupLeave('', 'g', 'c').subscribe(collect);
    flo.stream.groupCreate('s', '').subscribe(collect);
    flo.stream.groupInfo('', 'g').subscribe(collect);
    expect(errors).toHaveLength(15);
    for (const e of errors) expect(e).toBeInstanceOf(InvalidArgumentError);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
  });

  it('unsubscribing while the code loads sends nothing; once loaded, calls send synchronously', async () => {
    const { flo, sent } = recordingClient();
    flo.stream.info('s').subscribe().unsubscribe();
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    flo.stream.append('s', 'hello').subscribe();
    await until(() => sent.length > 0);
    expect(sent).toEqual([Op.StreamAppend]);
    flo.stream.append('s', 'again').subscribe();
    flo.stream.groupInfo('s', 'g').subscribe();
    expect(sent).toEqual([Op.StreamAppend, Op.StreamAppend, Op.StreamGroupInfo]);
    let error: unknown;
    flo.stream.append('', 'x').subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(InvalidArgumentError);
  });
});
