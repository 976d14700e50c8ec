import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeProcessingListPage,
  decodeProcessingListReply,
  encodeProcessingListReply,
  isTerminalProcessingStatus,
  ProcessingJobStatus,
  ProtocolError,
  scanProcessingDefinitionName,
} from '../../src/protocol/index.js';

const job = fc.record({
  name: fc.string({ maxLength: 24 }),
  jobId: fc.string({ maxLength: 24 }),
  status: fc.constantFrom('running', 'stopped', 'cancelled', 'failed', 'completed'),
  parallelism: fc.integer({ min: 0, max: 0xffffffff }),
  createdAt: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }),
});

describe('processing LIST page', () => {
  it('round-trips jobs, has_more and the cursor', () => {
    fc.assert(
      fc.property(fc.array(job, { maxLength: 5 }), fc.boolean(), fc.string({ maxLength: 24 }), (jobs, hasMore, cursor) => {
        const page = decodeProcessingListPage(encodeProcessingListReply(jobs, { hasMore, cursor }));
        expect(page).toEqual({ jobs, hasMore, cursor });
        expect(decodeProcessingListReply(encodeProcessingListReply(jobs, { hasMore, cursor }))).toEqual(jobs);
      }),
      { numRuns: 300 },
    );
  });

  it('a reply without the trailer (or an empty one) means no more pages', () => {
    expect(decodeProcessingListPage(new Uint8Array(0))).toEqual({ jobs: [], hasMore: false, cursor: '' });
    expect(decodeProcessingListPage(new Uint8Array([0, 0, 0, 0]))).toEqual({ jobs: [], hasMore: false, cursor: '' });
    expect(() => decodeProcessingListPage(new Uint8Array([1, 0, 0, 0]))).toThrow(ProtocolError);
  });
});

describe('processing helpers', () => {
  it('terminal states are cancelled, failed and completed', () => {
    expect(Object.values(ProcessingJobStatus).filter(isTerminalProcessingStatus)).toEqual([
      ProcessingJobStatus.Cancelled,
      ProcessingJobStatus.Failed,
      ProcessingJobStatus.Completed,
    ]);
  });

  it('scanProcessingDefinitionName takes the top-level name, not a nested one; JSON too', () => {
    expect(scanProcessingDefinitionName('kind: Processing\nsources:\n  - name: in\n    stream:\n      name: s\nname: "job-a"\n')).toBe('job-a');
    expect(scanProcessingDefinitionName('{\n  "kind": "Processing",\n  "name": "job-b",\n}')).toBe('job-b');
    expect(() => scanProcessingDefinitionName('kind: Processing\n')).toThrow(ProtocolError);
  });
});
