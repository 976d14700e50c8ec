/**
 * `streamWorker` keeps its docs and the streams check at start; its pipeline
 * (`stream-worker-run.ts`) loads at the first subscription, with the stream calls (one lazy chunk).
 * The tests run in order: the first ones run before the code loaded (each test file has its own
 * module registry).
 */
import { describe, expect, it } from 'vitest';
import { streamWorker } from '../../../src/client/stream-worker.js';
import { InvalidArgumentError, Op } from '../../../src/protocol/index.js';
import { recordingClient, until } from '../../support/recording-client.js';

const handler = async (): Promise<void> => {};

describe('streamWorker: the pipeline loaded on first use', () => {
  it('before the code loaded, a missing stream errors synchronously at subscription, and nothing is sent', async () => {
    const { flo, sent } = recordingClient();
    let error: unknown;
    streamWorker(flo, {}, handler).subscribe({ error: (e: unknown) => (error = e) });
    expect(error).toBeInstanceOf(InvalidArgumentError);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
  });

  it('unsubscribing while the code loads sends nothing; a kept subscription joins its groups once it arrived', async () => {
    const { flo, sent } = recordingClient();
    streamWorker(flo, { streams: ['a', 'b'], group: 'g' }, handler).subscribe().unsubscribe();
    await import('../../../src/client/on-demand-modules.js');
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    const sub = streamWorker(flo, { streams: ['a', 'b'], group: 'g' }, handler).subscribe();
    await until(() => sent.length >= 2);
    expect(sent).toEqual([Op.StreamGroupJoin, Op.StreamGroupJoin]);
    sub.unsubscribe(); // leaves both groups
    expect(sent).toEqual([Op.StreamGroupJoin, Op.StreamGroupJoin, Op.StreamGroupLeave, Op.StreamGroupLeave]);
  });
});
