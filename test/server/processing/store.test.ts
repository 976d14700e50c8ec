import { describe, expect, it } from 'vitest';
import { ProcessingJobStatus, utf8 } from '../../../src/protocol/index.js';
import { ManualClock } from '../../../src/server/clock.js';
import { createKvSubsystem } from '../../../src/server/kv/index.js';
import { createProcessingSubsystem, parseProcessingDefinition } from '../../../src/server/processing/index.js';
import { statusByte } from '../../../src/server/processing/store.js';
import { createQueueSubsystem } from '../../../src/server/queues/index.js';
import { createPorts } from '../../../src/server/ports.js';
import { createStreamSubsystem } from '../../../src/server/streams/index.js';

const YAML = 'kind: Processing\nname: copy\nsources:\n  - stream: { name: in }\nsinks:\n  - stream: { name: out }\noperators:\n  - type: aggregate\n    function: count\n';

function world(clock: ManualClock) {
  const env = { clock, profile: 'go' as const };
  const streams = createStreamSubsystem(env);
  const ports = createPorts(streams, createKvSubsystem(env), createQueueSubsystem(env));
  return { streams, processing: createProcessingSubsystem(env, ports) };
}

const out = (w: ReturnType<typeof world>) =>
  w.streams.store.read('ns', 'out', { from: 0n, count: 100 }).map((r) => JSON.parse(new TextDecoder().decode(r.payload)) as { count: number });

describe('ProcessingStore snapshot / restore', () => {
  it('a snapshot is plain data that a fresh server resumes from, positions and aggregates included', () => {
    const clock = new ManualClock();
    const a = world(clock);
    const def = parseProcessingDefinition(YAML, 'ns');
    const job = a.processing.store.submit('ns', YAML, def, clock.now());
    a.streams.append('ns', 'in', [{ payload: utf8('x'), headers: [] }]);
    clock.advance(1000);
    const snap = a.processing.store.snapshot();
    a.processing.close?.();
    expect(structuredClone(snap)).toEqual(snap);
    expect(snap.jobs[0].positions).toEqual({ '0:0': expect.any(BigInt) });

    // A second "server" with the same stream contents, restored from the snapshot.
    const b = world(clock);
    b.streams.append('ns', 'in', [{ payload: utf8('x'), headers: [] }]);
    b.streams.append('ns', 'in', [{ payload: utf8('y'), headers: [] }]);
    // Same keys as in `a` for the first record: restore positions so only 'y' is new.
    const firstKey = b.streams.store.read('ns', 'in', { from: 0n, count: 1 })[0].key;
    b.processing.restore({ ...snap, jobs: snap.jobs.map((j) => ({ ...j, positions: { '0:0': firstKey + 1n } })) });
    clock.advance(1000);
    expect(out(b)).toEqual([{ key: '', value: 2, count: 2 }]);
    const restored = b.processing.store.get('ns', job.id);
    expect(restored && statusByte(restored.phase)).toBe(ProcessingJobStatus.Running);
    expect(restored?.recordsProcessed).toBe(2n);
    // New ids do not collide with restored ones.
    expect(b.processing.store.submit('ns', YAML, def, clock.now()).id).not.toBe(job.id);
    b.processing.close?.();
  });

  it('close() cancels the polling timers', () => {
    const clock = new ManualClock();
    const a = world(clock);
    a.processing.store.submit('ns', YAML, parseProcessingDefinition(YAML, 'ns'), clock.now());
    expect(clock.pendingTimers).toBeGreaterThan(0);
    a.processing.close?.();
    expect(clock.pendingTimers).toBe(0);
  });
});
