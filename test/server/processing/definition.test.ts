import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromUtf8, Status } from '../../../src/protocol/index.js';
import { parseProcessingDefinition } from '../../../src/server/processing/index.js';
import { job, startProcessing, type ProcessingFixture } from './fixtures.js';

let f: ProcessingFixture;
beforeEach(async () => (f = await startProcessing()));
afterEach(async () => f.close());

describe('submit validation', () => {
  const bad: Array<[string, string, RegExp]> = [
    ['not YAML', 'kind: [', /not valid YAML/],
    ['wrong kind', 'kind: Workflow\nname: x', /kind: must be Processing/],
    ['no name', 'kind: Processing\nsources: []', /name: is required/],
    ['no sources', 'kind: Processing\nname: x\nsinks:\n  - stream: { name: o }', /sources: at least one source/],
    ['no sinks', 'kind: Processing\nname: x\nsources:\n  - stream: { name: i }', /sinks: at least one sink/],
    ['source without stream name', 'kind: Processing\nname: x\nsources:\n  - stream: {}\nsinks:\n  - stream: { name: o }', /sources\[0\]\.stream\.name: is required/],
    ['bad partitions', job('x').replace('stream: { name: in }', 'stream: { name: in, partitions: "3-1" }'), /sources\[0\]\.stream\.partitions: bad partition range/],
    ['time-series source', 'kind: Processing\nname: x\nsources:\n  - ts: { measurement: cpu }\nsinks:\n  - stream: { name: o }', /sources\[0\]\.ts: time-series sources are not supported/],
    ['bad write mode', job('x', '', 'sinks:\n  - kv: { write_mode: sometimes }\n'), /sinks\[0\]\.kv\.write_mode: must be upsert, if_absent or versioned/],
    ['sink in another namespace', job('x', '', 'sinks:\n  - stream: { name: o, namespace: other }\n'), /sinks\[0\]\.stream\.namespace: a job writes only into its own namespace/],
    ['two sink kinds', job('x', '', 'sinks:\n  - stream: { name: o }\n    queue: { name: q }\n'), /sinks\[0\]: needs exactly one of/],
    ['unknown operator', job('x', 'operators:\n  - type: explode\n'), /operators\[0\]\.type: unknown operator type "explode"/],
    ['bad condition', job('x', 'operators:\n  - type: filter\n    condition: "valeu_contains:x"\n'), /operators\[0\]\.condition: bad condition "valeu_contains:x": unknown condition/],
    ['mixed AND/OR', job('x', 'operators:\n  - type: filter\n    condition: "not_empty AND key_not_empty OR not_empty"\n'), /AND and OR cannot be mixed/],
    ['numeric op without number', job('x', 'operators:\n  - type: filter\n    condition: "json:amount>lots"\n'), /needs a number on the right/],
    ['aggregate without field', job('x', 'operators:\n  - type: aggregate\n    function: sum\n'), /operators\[0\]\.field: is required for sum/],
    ['bad window', job('x', 'operators:\n  - type: aggregate\n    function: count\n    window: sliding\n    window_size: 5\n'), /operators\[0\]\.window: must be tumbling or count/],
    ['enrich without field', job('x', 'operators:\n  - type: kv_lookup\n    lookup_key: "a:${$.id}"\n    mode: enrich\n'), /operators\[0\]\.enrich_field: is required in enrich mode/],
    ['classify rule with bad condition', job('x', 'operators:\n  - type: classify\n    rules:\n      - { condition: "nope", tag: t }\n'), /operators\[0\]\.rules\[0\]\.condition: bad condition "nope"/],
    ['namespace mismatch', 'kind: Processing\nname: x\nnamespace: prod\nsources:\n  - stream: { name: i }\nsinks:\n  - stream: { name: o }', /namespace: "prod" differs/],
    ['parallelism 0', job('x', 'parallelism: 0\n'), /parallelism: must be an integer from 1/],
  ];
  for (const [what, yaml, message] of bad) {
    it(`refuses ${what} with BAD_REQUEST naming the field`, async () => {
      const r = await f.submit(yaml);
      expect(r.status).toBe(Status.BadRequest);
      expect(fromUtf8(r.payload)).toMatch(message);
      expect((await f.list()).jobs).toEqual([]);
    });
  }

  it('refuses an empty definition', async () => {
    const r = await f.submit('');
    expect(r.status).toBe(Status.BadRequest);
    expect(fromUtf8(r.payload)).toMatch(/definition is required/);
  });

  it('accepts the documented defaults and both key spellings', () => {
    const def = parseProcessingDefinition(
      'kind: Processing\nname: x\nbatchSize: 7\nsources:\n  - stream: { name: i, pollIntervalMs: 50, partitions: "0,2-3" }\n  - stream: { name: j, namespace: shared, partitions: all }\nsinks:\n  - kv: { key_prefix: user }\n    match: hot\n',
      'ns',
    );
    expect(def).toMatchObject({ name: 'x', namespace: 'ns', parallelism: 1, batchSize: 7 });
    expect(def.sources[0]).toMatchObject({ stream: 'i', namespace: 'ns', partitions: [0, 2, 3], batchSize: 7, pollIntervalMs: 50 });
    expect(def.sources[1]).toMatchObject({ namespace: 'shared', partitions: 'all', pollIntervalMs: 1000 });
    expect(def.sinks[0]).toMatchObject({ match: ['hot'], target: { kind: 'kv', keyPrefix: 'user', separator: ':', writeMode: 'upsert' } });
  });
});
