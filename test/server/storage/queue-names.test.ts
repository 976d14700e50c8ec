// Queue messages and dedup keys are saved through an entity-key prefix built per queue (`findItem`):
// names and namespaces that JSON has to escape, or that look like a key's separators, must come back
// as they were, after compaction and a restart.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/server/clock.js';
import { utf8 } from '../../../src/protocol/index.js';
import { nextTurn, openStores, tempDir } from './fixtures.js';

const names = ['q', 'a"b', 'a\\"b', 'x,"y', 'x', 'x,"y","z', 'é\u2028\ud800', '"', '', ' ', '1'];
const spaces = ['default', 'n"s', 'n,"s'];

describe('queue names that JSON escapes, with a data directory', () => {
  it('keep their messages (ready, acked, dead-lettered) and dedup keys through compaction and a restart', async () => {
    const dir = tempDir();
    const clock = new ManualClock();
    const s = openStores(dir, clock);
    for (const ns of spaces)
      for (const n of names) {
        if (n === '') continue;
        s.queues.enqueue(ns, n, utf8(`${ns}/${n}/1`));
        s.queues.enqueue(ns, n, utf8(`${ns}/${n}/2`), { dedupKey: utf8('k1') });
        s.queues.enqueue(ns, n, utf8(`${ns}/${n}/3`));
      }
    await nextTurn();
    for (const ns of spaces)
      for (const n of names) {
        if (n === '') continue;
        s.queues.dequeue(ns, n, 2, 60_000);
        s.queues.ack(ns, n, [1n]);
      }
    await nextTurn();
    await s.storage.compact();
    for (const ns of spaces) for (const n of names) if (n !== '') s.queues.nack(ns, n, [2n], true);
    await nextTurn();
    const want = spaces.flatMap((ns) => names.filter((n) => n !== '').map((n) => [ns, n, [1n, 2n, 3n].map((q) => s.queues.stateOf(ns, n, q))]));
    await s.close();
    const again = openStores(dir, new ManualClock(clock.now()));
    const got = spaces.flatMap((ns) => names.filter((n) => n !== '').map((n) => [ns, n, [1n, 2n, 3n].map((q) => again.queues.stateOf(ns, n, q))]));
    expect(got).toEqual(want);
    expect(want[0]).toEqual(['default', 'q', [undefined, 'dlq', 'ready']]);
    for (const ns of spaces)
      for (const n of names) if (n !== '') expect(again.queues.enqueue(ns, n, utf8('dup'), { dedupKey: utf8('k1') })).toEqual({ seq: 2n, duplicate: true });
    await again.close();
  });
});
