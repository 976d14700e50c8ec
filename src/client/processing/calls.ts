/**
 * The code of `flo.processing`'s methods (`ProcessingApi` in `./api.ts` holds their docs and loads
 * this module at the first subscription to any of them). Reads: `client/core` (calls, polling),
 * the processing codecs.
 */
import { defer, EMPTY, expand, map, mergeMap, type Observable } from 'rxjs';
import { InvalidArgumentError, ProtocolError } from '../../protocol/errors.js';
import { ClientOp as Op } from '../../protocol/client-opcodes.js';
import {
  decodeProcessingListPage,
  decodeProcessingSavepointReply,
  decodeProcessingStatusReply,
  decodeProcessingSubmitReply,
  encodeProcessingCancel,
  encodeProcessingList,
  encodeProcessingRescale,
  encodeProcessingRestore,
  encodeProcessingSavepoint,
  encodeProcessingStatus,
  encodeProcessingStop,
  encodeProcessingSubmit,
  isTerminalProcessingStatus,
  processingJobStatusName,
  scanProcessingDefinitionName,
  type ProcessingJobStatusName,
  type ProcessingJobStatusReply,
} from '../../protocol/processing.js';
import { ignorePayload } from '../core/call.js';
import type { ClientCore, RequestOptions } from '../core/context.js';
import { pollUntilTerminal } from '../core/poll-until-terminal.js';
import type {
  ProcessingJobInfo,
  ProcessingJobPage,
  ProcessingJobSummary,
  ProcessingListOptions,
  ProcessingSyncResult,
  ProcessingWatchOptions,
} from './api.js';

const MAX_LIST_LIMIT = 1000;
const MAX_PARALLELISM = 1024;
const DEFAULT_WATCH_POLL_MS = 500;

function checkText(what: string, v: string): void {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty string`);
}

function checkDefinition(text: string | Uint8Array): void {
  if (!(typeof text === 'string' || text instanceof Uint8Array) || text.length === 0) {
    throw new InvalidArgumentError('processing definition must be non-empty YAML or JSON text');
  }
}

function toInfo(s: ProcessingJobStatusReply): ProcessingJobInfo {
  return {
    jobId: s.jobId,
    name: s.name,
    status: processingJobStatusName(s.status) as ProcessingJobStatusName | 'unknown',
    statusCode: s.status,
    terminal: isTerminalProcessingStatus(s.status),
    parallelism: s.parallelism,
    batchSize: s.batchSize,
    recordsProcessed: s.recordsProcessed,
    createdAt: Number(s.createdAt),
  };
}

/** What `watch` shows: a new state, more records processed, or a rescale. */
function sameProgress(a: ProcessingJobInfo, b: ProcessingJobInfo): boolean {
  return a.statusCode === b.statusCode && a.recordsProcessed === b.recordsProcessed && a.parallelism === b.parallelism;
}

/** The code of `ProcessingApi`'s methods (documented there), loaded on first use. */
export class ProcessingCalls {
  constructor(protected readonly core: ClientCore) {}

  submit(definition: string | Uint8Array, options: RequestOptions = {}): Observable<string> {
    return defer(() => {
      checkDefinition(definition);
      return this.core.call(this.core.spec(Op.ProcessingSubmit, encodeProcessingSubmit({ definition }), options), decodeProcessingSubmitReply);
    });
  }

  sync(definition: string | Uint8Array, options: RequestOptions = {}): Observable<ProcessingSyncResult> {
    return defer(() => {
      checkDefinition(definition);
      let name: string;
      try {
        name = scanProcessingDefinitionName(definition);
      } catch (e) {
        if (e instanceof ProtocolError) throw new InvalidArgumentError(`invalid processing definition: ${e.message}`);
        throw e;
      }
      return this.submit(definition, options).pipe(map((jobId) => ({ name, jobId })));
    });
  }

  status(jobId: string, options: RequestOptions = {}): Observable<ProcessingJobInfo> {
    return defer(() => {
      checkText('job id', jobId);
      return this.core.call(this.core.spec(Op.ProcessingStatus, encodeProcessingStatus({ jobId }), options), decodeProcessingStatusReply).pipe(map(toInfo));
    });
  }

  list(options: ProcessingListOptions = {}): Observable<ProcessingJobPage> {
    return defer(() => {
      const limit = options.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) throw new InvalidArgumentError(`limit must be an integer from 1 to ${MAX_LIST_LIMIT}, got ${limit}`);
      const body = encodeProcessingList({ limit, ...(options.cursor ? { cursor: options.cursor } : {}) });
      return this.core.call(this.core.spec(Op.ProcessingList, body, options), decodeProcessingListPage).pipe(
        map((page) => ({
          jobs: page.jobs.map((j) => ({ jobId: j.jobId, name: j.name, status: j.status, parallelism: j.parallelism, createdAt: Number(j.createdAt) })),
          hasMore: page.hasMore,
          cursor: page.cursor,
        })),
      );
    });
  }

  jobs(options: Omit<ProcessingListOptions, 'cursor'> = {}): Observable<ProcessingJobSummary> {
    return this.list(options).pipe(
      expand((page) => (page.hasMore && page.cursor ? this.list({ ...options, cursor: page.cursor }) : EMPTY)),
      mergeMap((page) => page.jobs),
    );
  }

  stop(jobId: string, options: RequestOptions = {}): Observable<void> {
    return this.byId_(Op.ProcessingStop, encodeProcessingStop, jobId, options);
  }

  cancel(jobId: string, options: RequestOptions = {}): Observable<void> {
    return this.byId_(Op.ProcessingCancel, encodeProcessingCancel, jobId, options);
  }

  savepoint(jobId: string, options: RequestOptions = {}): Observable<string> {
    return defer(() => {
      checkText('job id', jobId);
      return this.core.call(this.core.spec(Op.ProcessingSavepoint, encodeProcessingSavepoint({ jobId }), options), decodeProcessingSavepointReply);
    });
  }

  restore(jobId: string, savepointId: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('job id', jobId);
      checkText('savepoint id', savepointId);
      return this.core.call(this.core.spec(Op.ProcessingRestore, encodeProcessingRestore({ jobId, savepointId }), options), ignorePayload);
    });
  }

  rescale(jobId: string, parallelism: number, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('job id', jobId);
      if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_PARALLELISM) {
        throw new InvalidArgumentError(`parallelism must be an integer from 1 to ${MAX_PARALLELISM}, got ${parallelism}`);
      }
      return this.core.call(this.core.spec(Op.ProcessingRescale, encodeProcessingRescale({ jobId, parallelism }), options), ignorePayload);
    });
  }

  watch(jobId: string, options: ProcessingWatchOptions = {}): Observable<ProcessingJobInfo> {
    return pollUntilTerminal(this.core.channel, this.status(jobId, options), {
      pollMs: options.pollMs ?? DEFAULT_WATCH_POLL_MS,
      same: sameProgress,
      scheduler: options.scheduler,
    });
  }

  private byId_(op: number, encode: (req: { jobId: string }) => ReturnType<typeof encodeProcessingStop>, jobId: string, options: RequestOptions): Observable<void> {
    return defer(() => {
      checkText('job id', jobId);
      return this.core.call(this.core.spec(op, encode({ jobId }), options), ignorePayload);
    });
  }
}
