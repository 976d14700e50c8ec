/**
 * The processing opcodes the Go SDK sends, 0x360-0x367 (submit, stop, cancel, status, list,
 * savepoint, restore, rescale), over a `ProcessingStore`. Replies are the binary layouts the SDKs
 * parse (status byte, lowercase status names in LIST), not the JSON text of older Flo servers.
 *
 * Errors: a bad definition, a missing job id or a transition the job's phase refuses → BAD_REQUEST
 * with the reason; an unknown job or savepoint (or one of another namespace) → NOT_FOUND.
 */
import {
  Op,
  ProtocolError,
  decodeProcessingCancel,
  decodeProcessingList,
  decodeProcessingRescale,
  decodeProcessingRestore,
  decodeProcessingSavepoint,
  decodeProcessingStatus,
  decodeProcessingStop,
  decodeProcessingSubmit,
  encodeProcessingListReply,
  encodeProcessingSavepointReply,
  encodeProcessingStatusReply,
  encodeProcessingSubmitReply,
  fromUtf8,
  processingJobStatusName,
  type RequestBody,
} from '../../protocol/index.js';
import { badRequest, notFound, ok } from '../reply.js';
import type { Handler, RequestContext } from '../types.js';
import { DefinitionError, parseProcessingDefinition } from './definition.js';
import { JobStateError, statusByte, type JobRecord, type ProcessingStore } from './store.js';

/** Largest page LIST answers; a larger limit is capped. */
export const MAX_PROCESSING_LIST_LIMIT = 1000;
const MAX_PARALLELISM = 1024;

function decode<T>(fn: (body: RequestBody) => T, body: RequestBody): T {
  try {
    return fn(body);
  } catch (e) {
    if (e instanceof ProtocolError) throw badRequest(e.message);
    throw e;
  }
}

/** Runs a transition; a refusal by the job's phase answers BAD_REQUEST. */
function transition(fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof JobStateError) throw badRequest(e.message);
    throw e;
  }
}

/** One handler per processing opcode over `store`; `now` is the server clock. */
export function createProcessingHandlers(store: ProcessingStore, now: () => number): Map<number, Handler> {
  const h = new Map<number, Handler>();

  const job = (ctx: RequestContext, jobId: string): JobRecord => {
    if (!jobId) throw badRequest('job id is required');
    const found = store.get(ctx.namespace, jobId);
    if (!found) throw notFound('job not found');
    return found;
  };

  h.set(Op.ProcessingSubmit, (ctx) => {
    const { definition } = decode(decodeProcessingSubmit, ctx.body);
    if (definition.length === 0) throw badRequest('job definition is required');
    const text = fromUtf8(definition);
    let def;
    try {
      def = parseProcessingDefinition(text, ctx.namespace);
    } catch (e) {
      if (e instanceof DefinitionError) throw badRequest(`invalid processing definition: ${e.message}`);
      throw e;
    }
    let id = '';
    transition(() => (id = store.submit(ctx.namespace, text, def, now()).id));
    return ok(encodeProcessingSubmitReply(id));
  });

  h.set(Op.ProcessingStop, (ctx) => {
    const j = job(ctx, decode(decodeProcessingStop, ctx.body).jobId);
    transition(() => store.stop(j, now()));
    return ok();
  });

  h.set(Op.ProcessingCancel, (ctx) => {
    const j = job(ctx, decode(decodeProcessingCancel, ctx.body).jobId);
    transition(() => store.cancel(j, now()));
    return ok();
  });

  h.set(Op.ProcessingStatus, (ctx) => {
    const j = job(ctx, decode(decodeProcessingStatus, ctx.body).jobId);
    return ok(
      encodeProcessingStatusReply({
        jobId: j.id,
        name: j.name,
        status: statusByte(j.phase),
        parallelism: j.parallelism,
        batchSize: j.definition.batchSize,
        recordsProcessed: j.recordsProcessed,
        createdAt: BigInt(j.createdAt),
      }),
    );
  });

  h.set(Op.ProcessingList, (ctx) => {
    const req = decode(decodeProcessingList, ctx.body);
    const limit = Math.min(Math.max(req.limit, 1), MAX_PROCESSING_LIST_LIMIT);
    // Ids grow with submit order, so "after the cursor" is a plain comparison of equal-length ids.
    const all = store.list(ctx.namespace).filter((j) => req.cursor === '' || j.id > req.cursor);
    const page = all.slice(0, limit);
    const hasMore = all.length > page.length;
    return ok(
      encodeProcessingListReply(
        page.map((j) => ({
          name: j.name,
          jobId: j.id,
          status: processingJobStatusName(statusByte(j.phase)),
          parallelism: j.parallelism,
          createdAt: BigInt(j.createdAt),
        })),
        { hasMore, cursor: hasMore ? page[page.length - 1].id : '' },
      ),
    );
  });

  h.set(Op.ProcessingSavepoint, (ctx) => {
    const j = job(ctx, decode(decodeProcessingSavepoint, ctx.body).jobId);
    let id = '';
    transition(() => (id = store.savepoint(j, now()).id));
    return ok(encodeProcessingSavepointReply(id));
  });

  h.set(Op.ProcessingRestore, (ctx) => {
    const req = decode(decodeProcessingRestore, ctx.body);
    const j = job(ctx, req.jobId);
    if (!req.savepointId) throw badRequest('savepoint id is required');
    const sp = store.getSavepoint(j, req.savepointId);
    if (!sp) throw notFound('savepoint not found');
    transition(() => store.restoreFrom(j, sp));
    return ok();
  });

  h.set(Op.ProcessingRescale, (ctx) => {
    const req = decode(decodeProcessingRescale, ctx.body);
    const j = job(ctx, req.jobId);
    if (req.parallelism < 1 || req.parallelism > MAX_PARALLELISM) throw badRequest(`parallelism must be from 1 to ${MAX_PARALLELISM}`);
    transition(() => store.rescale(j, req.parallelism));
    return ok();
  });

  return h;
}
