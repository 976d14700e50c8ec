import { describe, expect, it } from 'vitest';
import {
  decodeProcessingCancel,
  decodeProcessingList,
  decodeProcessingListReply,
  decodeProcessingRescale,
  decodeProcessingRestore,
  decodeProcessingSavepoint,
  decodeProcessingSavepointReply,
  decodeProcessingStatus,
  decodeProcessingStatusReply,
  decodeProcessingStop,
  decodeProcessingSubmit,
  decodeProcessingSubmitReply,
  encodeProcessingCancel,
  encodeProcessingList,
  encodeProcessingListReply,
  encodeProcessingRescale,
  encodeProcessingRestore,
  encodeProcessingSavepoint,
  encodeProcessingSavepointReply,
  encodeProcessingStatus,
  encodeProcessingStatusReply,
  encodeProcessingStop,
  encodeProcessingSubmit,
  encodeProcessingSubmitReply,
  fromHex,
  processingJobStatusName,
  toHex,
} from '../../src/protocol/index.js';
import { checkRequest, reply, vector } from '../vectors.js';

const job = { jobId: 'job-1f2e3d' };

describe('processing vectors', () => {
  for (const name of ['processing_submit', 'processing_sync_bytes']) {
    it(name, () => {
      const v = vector(name);
      const definition = fromHex(v.value_hex);
      expect(decodeProcessingSubmit(checkRequest(v, encodeProcessingSubmit({ definition })))).toEqual({ definition });
      expect(decodeProcessingSubmitReply(reply(v))).toBe('job-1f2e3d');
      expect(toHex(encodeProcessingSubmitReply('job-1f2e3d'))).toBe(v.response.payload_hex);
    });
  }

  it('processing_status', () => {
    const v = vector('processing_status');
    expect(decodeProcessingStatus(checkRequest(v, encodeProcessingStatus(job)))).toEqual(job);
    const s = decodeProcessingStatusReply(reply(v));
    expect({
      job_id: s.jobId,
      name: s.name,
      status: processingJobStatusName(s.status),
      parallelism: s.parallelism,
      batch_size: s.batchSize,
      records_processed: Number(s.recordsProcessed),
      created_at: Number(s.createdAt),
    }).toEqual(v.response.sdk_parsed);
    expect(toHex(encodeProcessingStatusReply(s))).toBe(v.response.payload_hex);
  });

  it('processing_list', () => {
    const v = vector('processing_list');
    expect(decodeProcessingList(checkRequest(v, encodeProcessingList()))).toEqual({ limit: 100, cursor: '' });
    const jobs = decodeProcessingListReply(reply(v));
    expect(jobs.map((j) => ({ name: j.name, job_id: j.jobId, status: j.status, parallelism: j.parallelism, created_at: Number(j.createdAt) }))).toEqual(
      v.response.sdk_parsed,
    );
    expect(toHex(encodeProcessingListReply(jobs))).toBe(v.response.payload_hex);
  });

  it('processing_stop / cancel / savepoint / restore / rescale', () => {
    expect(decodeProcessingStop(checkRequest(vector('processing_stop'), encodeProcessingStop(job)))).toEqual(job);
    expect(decodeProcessingCancel(checkRequest(vector('processing_cancel'), encodeProcessingCancel(job)))).toEqual(job);
    const sp = vector('processing_savepoint');
    expect(decodeProcessingSavepoint(checkRequest(sp, encodeProcessingSavepoint(job)))).toEqual(job);
    expect(decodeProcessingSavepointReply(reply(sp))).toBe('sp-9a8b');
    expect(toHex(encodeProcessingSavepointReply('sp-9a8b'))).toBe(sp.response.payload_hex);
    const restore = { jobId: 'job-1f2e3d', savepointId: 'sp-9a8b' };
    expect(decodeProcessingRestore(checkRequest(vector('processing_restore'), encodeProcessingRestore(restore)))).toEqual(restore);
    const rescale = { jobId: 'job-1f2e3d', parallelism: 4 };
    expect(decodeProcessingRescale(checkRequest(vector('processing_rescale'), encodeProcessingRescale(rescale)))).toEqual(rescale);
  });
});
