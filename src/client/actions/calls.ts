/**
 * The code of `flo.actions`' request methods (`ActionsApi` in `../actions.ts` holds their docs and
 * loads this module at the first subscription to any of them). Reads: `client/core` (calls), the
 * action codecs.
 */
import { defer, map, type Observable } from 'rxjs';
import { lazyData, toPayload } from '../../codec/payload.js';
import {
  actionRunStatusName,
  decodeActionInvokeReply,
  decodeActionListReply,
  decodeActionListRunsReply,
  decodeActionStatusReply,
  encodeActionDelete,
  encodeActionInvoke,
  encodeActionList,
  encodeActionListRuns,
  encodeActionRegister,
  encodeActionStatus,
  type ActionRunSummary as WireRunSummary,
} from '../../protocol/action.js';
import { InvalidArgumentError } from '../../protocol/errors.js';
import { ClientOp as Op } from '../../protocol/client-opcodes.js';
import { ignorePayload } from '../core/call.js';
import type { ClientCore, RequestOptions } from '../core/context.js';
import type {
  ActionInfo,
  ActionInvokeOptions,
  ActionListRunsOptions,
  ActionRegisterOptions,
  ActionRunStatus,
  ActionRunStatusName,
  ActionRunSummary,
} from '../actions.js';

const ms = (v: bigint | undefined): number | undefined => (v === undefined ? undefined : Number(v));

function summary(r: WireRunSummary): ActionRunSummary {
  return {
    runId: r.runId,
    action: r.action,
    status: actionRunStatusName(r.status) as ActionRunStatusName,
    statusCode: r.status,
    createdAt: Number(r.createdAt),
    ...(r.startedAt !== undefined ? { startedAt: Number(r.startedAt) } : {}),
    ...(r.completedAt !== undefined ? { completedAt: Number(r.completedAt) } : {}),
  };
}

function checkName(what: string, name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidArgumentError(`${what} must be a non-empty string`);
}

/** The code of `ActionsApi`'s request methods (documented there), loaded on first use. */
export class ActionsCalls {
  constructor(protected readonly core: ClientCore) {}

  register(name: string, options: ActionRegisterOptions = {}): Observable<void> {
    return defer(() => {
      checkName('action name', name);
      const spec = this.core.spec(
        Op.ActionRegister,
        encodeActionRegister({
          name,
          ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}),
          ...(options.description !== undefined ? { description: options.description } : {}),
        }),
        { ...(options.namespace !== undefined ? { namespace: options.namespace } : {}), ...(options.requestTimeoutMs !== undefined ? { timeoutMs: options.requestTimeoutMs } : {}) },
      );
      return this.core.call(spec, ignorePayload);
    });
  }

  invoke(name: string, input?: unknown, options: ActionInvokeOptions = {}): Observable<string> {
    return defer(() => {
      checkName('action name', name);
      const { priority, delayMs, labels } = options;
      if (priority !== undefined && !(Number.isInteger(priority) && priority >= 0 && priority <= 255)) {
        throw new InvalidArgumentError(`priority must be an integer from 0 to 255, got ${priority}`);
      }
      if (delayMs !== undefined && !(Number.isInteger(delayMs) && delayMs >= 0)) throw new InvalidArgumentError(`delayMs must be a non-negative integer, got ${delayMs}`);
      const spec = this.core.spec(
        Op.ActionInvoke,
        encodeActionInvoke({
          name,
          input: toPayload(input, this.core.codec),
          ...(priority !== undefined ? { priority } : {}),
          ...(delayMs !== undefined ? { delayMs } : {}),
          ...(options.idempotencyKey !== undefined ? { idempotencyKey: options.idempotencyKey } : {}),
          ...(labels !== undefined ? { labels: typeof labels === 'string' ? labels : JSON.stringify(labels) } : {}),
        }),
        options,
      );
      return this.core.call(spec, (p) => decodeActionInvokeReply(p).runId);
    });
  }

  status(runId: string, options: RequestOptions = {}): Observable<ActionRunStatus> {
    return defer(() => {
      checkName('run id', runId);
      return this.core.call(this.core.spec(Op.ActionStatus, encodeActionStatus({ runId }), options), decodeActionStatusReply).pipe(
        map((s) => {
          const out = {
            runId: s.runId,
            status: actionRunStatusName(s.status) as ActionRunStatusName,
            statusCode: s.status,
            createdAt: Number(s.createdAt),
            retryCount: s.retryCount,
            ...(s.startedAt !== undefined ? { startedAt: ms(s.startedAt) } : {}),
            ...(s.completedAt !== undefined ? { completedAt: ms(s.completedAt) } : {}),
            ...(s.output !== undefined ? { output: s.output } : {}),
            ...(s.errorMessage !== undefined ? { error: s.errorMessage } : {}),
          } as ActionRunStatus;
          const data = s.output !== undefined ? lazyData(s.output, this.core.codec) : () => undefined;
          Object.defineProperty(out, 'data', { value: data, enumerable: false, configurable: true });
          return out;
        }),
      );
    });
  }

  list(options: RequestOptions & { readonly prefix?: string; readonly limit?: number } = {}): Observable<ActionInfo[]> {
    return defer(() =>
      this.core
        .call(
          this.core.spec(Op.ActionList, encodeActionList({ ...(options.prefix !== undefined ? { prefix: options.prefix } : {}), ...(options.limit !== undefined ? { limit: options.limit } : {}) }), options),
          decodeActionListReply,
        )
        .pipe(map((r) => r.actions.map((a) => ({ ...a })))),
    );
  }

  listRuns(name?: string, options: ActionListRunsOptions = {}): Observable<ActionRunSummary[]> {
    return defer(() =>
      this.core
        .call(
          this.core.spec(Op.ActionListRuns, encodeActionListRuns({ ...(name ? { action: name } : {}), ...(options.limit !== undefined ? { limit: options.limit } : {}) }), options),
          decodeActionListRunsReply,
        )
        .pipe(map((runs) => runs.map(summary))),
    );
  }

  delete(name: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      checkName('action name', name);
      return this.core.call(this.core.spec(Op.ActionDelete, encodeActionDelete({ name }), options), ignorePayload);
    });
  }
}
