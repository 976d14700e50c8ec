/**
 * `flo.processing`: stream-processing jobs (opcodes 0x360-0x367, the ones the Go SDK sends), every
 * call a cold Observable: submit, sync, status, list / jobs (paged), stop, cancel, savepoint,
 * restore, rescale, and `watch`, which polls STATUS and emits each change until a terminal state.
 * Reads the client core only; file helpers (Node) are in `./file.ts`.
 */
import { defer, EMPTY, expand, map, mergeMap, type Observable, type SchedulerLike } from 'rxjs';
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
  InvalidArgumentError,
  isTerminalProcessingStatus,
  Op,
  processingJobStatusName,
  ProtocolError,
  scanProcessingDefinitionName,
  type ProcessingJobStatusName,
  type ProcessingJobStatusReply,
} from '../../protocol/index.js';
import { ignorePayload, pollUntilTerminal, type ClientCore, type RequestOptions } from '../core/index.js';

export type { ProcessingJobStatusName } from '../../protocol/index.js';

/** A job's STATUS, typed. Timestamps are Unix ms. */
export interface ProcessingJobInfo {
  readonly jobId: string;
  readonly name: string;
  readonly status: ProcessingJobStatusName | 'unknown';
  /** The wire status byte (0 running … 4 completed). */
  readonly statusCode: number;
  /** True for cancelled, failed and completed (a stopped job can still be restored). */
  readonly terminal: boolean;
  readonly parallelism: number;
  readonly batchSize: number;
  /** Source records the job has consumed. */
  readonly recordsProcessed: bigint;
  readonly createdAt: number;
}

/** One entry of LIST. */
export interface ProcessingJobSummary {
  readonly jobId: string;
  readonly name: string;
  /** Lowercase status name as the server sends it. */
  readonly status: string;
  readonly parallelism: number;
  readonly createdAt: number;
}

/** One page of LIST. */
export interface ProcessingJobPage {
  readonly jobs: readonly ProcessingJobSummary[];
  readonly hasMore: boolean;
  /** Pass as `cursor` for the next page; empty on the last one. */
  readonly cursor: string;
}

/** The result of `sync`: the job name read from the definition and the id of the job submitted. */
export interface ProcessingSyncResult {
  readonly name: string;
  readonly jobId: string;
}

/** Options of `list`. */
export interface ProcessingListOptions extends RequestOptions {
  /** Jobs per page, 1 to 1000. Default 100. */
  readonly limit?: number;
  /** The `cursor` of the previous page. */
  readonly cursor?: string;
}

/** Options of `watch`. */
export interface ProcessingWatchOptions extends RequestOptions {
  /** Pause between two STATUS polls, in ms. Default 500. */
  readonly pollMs?: number;
  /** Scheduler of the poll timer (virtual time in tests). */
  readonly scheduler?: SchedulerLike;
}

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

/** `flo.processing`: every method returns a cold Observable. */
export class ProcessingApi {
  /** Built by `FloClient`; use `flo.processing`. */
  constructor(protected readonly core: ClientCore) {}

  /**
   * PROCESSING_SUBMIT: the server validates the definition (a bad one is `BadRequestError` naming
   * the field), stores the job and starts it. Emits the job id.
   */
  submit(definition: string | Uint8Array, options: RequestOptions = {}): Observable<string> {
    return defer(() => {
      checkDefinition(definition);
      return this.core.call(this.core.spec(Op.ProcessingSubmit, encodeProcessingSubmit({ definition }), options), decodeProcessingSubmitReply);
    });
  }

  /**
   * The Go SDK's `SyncBytes`: reads the job name from the text and submits it. Processing has no
   * "get definition", so every sync submits a new job. No `name` → `InvalidArgumentError`, nothing sent.
   */
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

  /** PROCESSING_STATUS (`NotFoundError` for a job unknown in the namespace). */
  status(jobId: string, options: RequestOptions = {}): Observable<ProcessingJobInfo> {
    return defer(() => {
      checkText('job id', jobId);
      return this.core.call(this.core.spec(Op.ProcessingStatus, encodeProcessingStatus({ jobId }), options), decodeProcessingStatusReply).pipe(map(toInfo));
    });
  }

  /** PROCESSING_LIST: one page of the namespace's jobs, in submit order. */
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

  /** Every job of the namespace, page after page (`limit` per request), one emission per job. */
  jobs(options: Omit<ProcessingListOptions, 'cursor'> = {}): Observable<ProcessingJobSummary> {
    return this.list(options).pipe(
      expand((page) => (page.hasMore && page.cursor ? this.list({ ...options, cursor: page.cursor }) : EMPTY)),
      mergeMap((page) => page.jobs),
    );
  }

  /** PROCESSING_STOP: the job stops reading (it can be restored from a savepoint). */
  stop(jobId: string, options: RequestOptions = {}): Observable<void> {
    return this.byId(Op.ProcessingStop, encodeProcessingStop, jobId, options);
  }

  /** PROCESSING_CANCEL: the job ends for good. */
  cancel(jobId: string, options: RequestOptions = {}): Observable<void> {
    return this.byId(Op.ProcessingCancel, encodeProcessingCancel, jobId, options);
  }

  /** PROCESSING_SAVEPOINT: records the job's source positions, counters and state. Emits the savepoint id. */
  savepoint(jobId: string, options: RequestOptions = {}): Observable<string> {
    return defer(() => {
      checkText('job id', jobId);
      return this.core.call(this.core.spec(Op.ProcessingSavepoint, encodeProcessingSavepoint({ jobId }), options), decodeProcessingSavepointReply);
    });
  }

  /** PROCESSING_RESTORE: puts the job back at the savepoint and runs it (records after it are processed once). */
  restore(jobId: string, savepointId: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('job id', jobId);
      checkText('savepoint id', savepointId);
      return this.core.call(this.core.spec(Op.ProcessingRestore, encodeProcessingRestore({ jobId, savepointId }), options), ignorePayload);
    });
  }

  /** PROCESSING_RESCALE: sets the job's parallelism (1 to 1024). */
  rescale(jobId: string, parallelism: number, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkText('job id', jobId);
      if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > MAX_PARALLELISM) {
        throw new InvalidArgumentError(`parallelism must be an integer from 1 to ${MAX_PARALLELISM}, got ${parallelism}`);
      }
      return this.core.call(this.core.spec(Op.ProcessingRescale, encodeProcessingRescale({ jobId, parallelism }), options), ignorePayload);
    });
  }

  /**
   * Polls STATUS every `pollMs` (default 500, one request at a time) and emits the status whenever
   * it changes (state, records processed, parallelism), the first one at once; completes after
   * emitting a terminal status (cancelled, failed, completed). `NotFoundError` for an unknown job;
   * a lost connection waits for the reconnect, a timeout polls again.
   *
   * ```
   * STATUS replies:  r0 r0 r2 r2 r5 s5 c5
   * watch:           r0----r2----r5-s5-c5|
   * ```
   */
  watch(jobId: string, options: ProcessingWatchOptions = {}): Observable<ProcessingJobInfo> {
    return pollUntilTerminal(this.core.channel, this.status(jobId, options), {
      pollMs: options.pollMs ?? DEFAULT_WATCH_POLL_MS,
      same: sameProgress,
      scheduler: options.scheduler,
    });
  }

  private byId(op: number, encode: (req: { jobId: string }) => ReturnType<typeof encodeProcessingStop>, jobId: string, options: RequestOptions): Observable<void> {
    return defer(() => {
      checkText('job id', jobId);
      return this.core.call(this.core.spec(op, encode({ jobId }), options), ignorePayload);
    });
  }
}
