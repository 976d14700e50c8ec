/**
 * `flo.processing`: stream-processing jobs (opcodes 0x360-0x367, the ones the Go SDK sends), every
 * call a cold Observable: submit, sync, status, list / jobs (paged), stop, cancel, savepoint,
 * restore, rescale, and `watch`, which polls STATUS and emits each change until a terminal state.
 * Reads the client core only; file helpers (Node) are in `./file.ts`. The methods' code is in
 * `./calls.ts`, loaded at the first subscription to any of them (`onDemand`): an app that never
 * uses processing never loads it.
 */
import type { Observable, SchedulerLike } from 'rxjs';
import type { ProcessingJobStatusName } from '../../protocol/index.js';
import type { ClientCore } from '../core/context.js';
import type { RequestOptions } from '../core/index.js';
import { onDemand } from '../on-demand.js';
import type { ProcessingCalls } from './calls.js';

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

const loadCalls = /* @__PURE__ */ onDemand(() => import('../on-demand-modules.js'));

/** `use` of these calls over `core`, in a cold Observable; their code loads at the first subscription. */
function calls<T>(core: ClientCore, use: (calls: ProcessingCalls) => Observable<T>): Observable<T> {
  return loadCalls((module) => use(new module.ProcessingCalls(core)));
}

/** `flo.processing`: every method returns a cold Observable. */
export class ProcessingApi {
  /** Built by `FloClient`; use `flo.processing`. */
  protected declare readonly core: ClientCore;
  constructor(core: ClientCore) {
    this.core = core;
  }

  /**
   * PROCESSING_SUBMIT: the server validates the definition (a bad one is `BadRequestError` naming
   * the field), stores the job and starts it. Emits the job id.
   */
  submit(definition: string | Uint8Array, options: RequestOptions = {}): Observable<string> {
    return calls(this.core, (c) => c.submit(definition, options));
  }

  /**
   * The Go SDK's `SyncBytes`: reads the job name from the text and submits it. Processing has no
   * "get definition", so every sync submits a new job. No `name` → `InvalidArgumentError`, nothing sent.
   */
  sync(definition: string | Uint8Array, options: RequestOptions = {}): Observable<ProcessingSyncResult> {
    return calls(this.core, (c) => c.sync(definition, options));
  }

  /** PROCESSING_STATUS (`NotFoundError` for a job unknown in the namespace). */
  status(jobId: string, options: RequestOptions = {}): Observable<ProcessingJobInfo> {
    return calls(this.core, (c) => c.status(jobId, options));
  }

  /** PROCESSING_LIST: one page of the namespace's jobs, in submit order. */
  list(options: ProcessingListOptions = {}): Observable<ProcessingJobPage> {
    return calls(this.core, (c) => c.list(options));
  }

  /** Every job of the namespace, page after page (`limit` per request), one emission per job. */
  jobs(options: Omit<ProcessingListOptions, 'cursor'> = {}): Observable<ProcessingJobSummary> {
    return calls(this.core, (c) => c.jobs(options));
  }

  /** PROCESSING_STOP: the job stops reading (it can be restored from a savepoint). */
  stop(jobId: string, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.stop(jobId, options));
  }

  /** PROCESSING_CANCEL: the job ends for good. */
  cancel(jobId: string, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.cancel(jobId, options));
  }

  /** PROCESSING_SAVEPOINT: records the job's source positions, counters and state. Emits the savepoint id. */
  savepoint(jobId: string, options: RequestOptions = {}): Observable<string> {
    return calls(this.core, (c) => c.savepoint(jobId, options));
  }

  /** PROCESSING_RESTORE: puts the job back at the savepoint and runs it (records after it are processed once). */
  restore(jobId: string, savepointId: string, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.restore(jobId, savepointId, options));
  }

  /** PROCESSING_RESCALE: sets the job's parallelism (1 to 1024). */
  rescale(jobId: string, parallelism: number, options: RequestOptions = {}): Observable<void> {
    return calls(this.core, (c) => c.rescale(jobId, parallelism, options));
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
    return calls(this.core, (c) => c.watch(jobId, options));
  }

}
