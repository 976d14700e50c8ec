/**
 * `flo.stream`: the public `StreamApi`. It keeps every method, its docs and its argument checks;
 * the code of the calls (`stream.ts`: appends, reads, tails, consumer groups and their settles)
 * loads at the first subscription to any of them (`onDemand`, through `on-demand-modules.ts`), so
 * an app that does not use streams does not start with it. Once loaded, each method calls that
 * code directly. Argument errors still arrive at subscription before anything loads or is sent.
 */
import { defer, type Observable } from 'rxjs';
import type { StreamId } from '../protocol/options.js';
import type { StreamGroupInfo, StreamGroupJoinReply, StreamInfo, StreamTrimReply } from '../protocol/stream.js';
import { STREAM_DEFAULT_READ_COUNT, STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS } from '../protocol/stream-common.js';
import type { ClientCore, RequestOptions } from './core/context.js';
import { checkBlockMs } from './core/block-ms.js';
import { onDemand } from './on-demand.js';
import { checkCount, checkPositiveInt, requireName, toU64 } from './stream-args.js';
import type * as StreamCalls from './stream.js';
import type {
  GroupRecord,
  StreamAppendOptions,
  StreamGroupCreateOptions,
  StreamGroupIdsOptions,
  StreamGroupNackOptions,
  StreamGroupOptions,
  StreamGroupReadOptions,
  StreamGroupTouchOptions,
  StreamReadOptions,
  StreamRecord,
  StreamTailOptions,
  StreamTrimOptions,
} from './stream.js';

/** The code of the stream calls: loaded at the first subscription to one of them. */
const loadCalls = /* @__PURE__ */ onDemand<typeof StreamCalls>(() => import('./on-demand-modules.js'));

/**
 * `flo.stream`: append-only streams and consumer groups. Every method returns a cold Observable
 * (nothing is sent before subscription; each subscription sends again); every options object
 * takes `namespace` and `timeoutMs`.
 *
 * - `append` emits the new record's id once.
 * - `read` is finite: pages through the stream on demand (`take(n)` fetches only the pages needed).
 * - `tail` is infinite: long-polls for new records and resumes after the last id it emitted when
 *   the connection comes back (no gap, no duplicate).
 * - `group` leases records of a consumer group forever (joins on subscribe, leaves on unsubscribe);
 *   settle them with `ack()`, `nack()`, `settle(handler)`; see also `streamWorker`.
 */
export class StreamApi {
  private calls_: StreamCalls.StreamApi | undefined;

  protected declare readonly core: ClientCore;
  constructor(core: ClientCore) {
    this.core = core;
  }

  /**
   * Appends one record (sent as a batch frame of one, headers in insertion order: `docs/protocol-decisions.md` #2).
   * `payload`: bytes as is, a string as UTF-8, anything else through the client's codec.
   * Emits the record's id, then completes.
   */
  append(stream: string, payload: unknown, options?: StreamAppendOptions): Observable<StreamId> {
    // The write path: straight to the loaded code (no Observable around it).
    const loaded = this.loaded_();
    if (loaded !== undefined) return loaded.append(stream, payload, options);
    return this.via_(() => requireName('stream', stream), (s) => s.append(stream, payload, options));
  }

  /**
   * Reads `[from, to]` and completes: emits records one by one, fetching `pageSize` records per
   * request and the next page only once the previous one has been consumed and the subscriber is
   * still there. It stops after `to`, or when a page comes back short (the end of the stream as it
   * was then). Pages resume with `start = lastId` and drop ids ≤ lastId (`docs/protocol-decisions.md` #13); a lost
   * connection is waited out and the read resumes where it was.
   */
  read<T = unknown>(stream: string, options: StreamReadOptions = {}): Observable<StreamRecord<T>> {
    return this.via_(() => {
      requireName('stream', stream);
      checkCount('pageSize', options.pageSize, STREAM_DEFAULT_READ_COUNT);
    }, (s) => s.read<T>(stream, options));
  }

  /**
   * Emits the stream's records forever: from `from` (`'end'` by default), then every record
   * appended, by long-polling (`blockMs`, never 0: `docs/protocol-decisions.md` #14).
   *
   * `'end'` is resolved with `info(stream)` on subscribe: its last id becomes the exclusive start
   * position, so a record appended after the subscription is never missed (a read with the `tail`
   * flag would only give "after the end as of this request", and lose what is appended between two
   * polls). Every poll resumes with `start = lastId` and drops ids ≤ lastId (`docs/protocol-decisions.md` #13, see
   * `ReadCursor`), so after a reconnect the tail continues with no gap and no duplicate.
   */
  tail<T = unknown>(stream: string, options: StreamTailOptions = {}): Observable<StreamRecord<T>> {
    return this.via_(() => {
      requireName('stream', stream);
      checkCount('pageSize', options.pageSize, STREAM_DEFAULT_READ_COUNT);
    }, (s) => s.tail<T>(stream, options));
  }

  /** Stream metadata: first and last ids, record count, bytes, partitions, retention. */
  info(stream: string, options: RequestOptions = {}): Observable<StreamInfo> {
    return this.via_(() => {
      requireName('stream', stream);
    }, (s) => s.info(stream, options));
  }

  /**
   * Removes old records: keep the newest `maxLen`, drop those older than `maxAgeSeconds`, or the
   * oldest until at most `maxBytes` remain (several bounds combine). `dryRun` reports only.
   * Emits `{ removed, firstSeq }`. At least one bound is required (else `BadRequestError`).
   */
  trim(stream: string, options: StreamTrimOptions = {}): Observable<StreamTrimReply> {
    return this.via_(() => {
      requireName('stream', stream);
      toU64('maxLen', options.maxLen);
      toU64('maxAgeSeconds', options.maxAgeSeconds);
      toU64('maxBytes', options.maxBytes);
    }, (s) => s.trim(stream, options));
  }

  /**
   * Leases the group's records forever, as `GroupRecord`s (each record reaches one consumer of the
   * group). On subscribe it joins the group (the server creates it if needed, reading from the
   * stream's beginning), then long-polls group reads, never holding more than `maxInFlight`
   * unsettled records (`leasingSource`). After a reconnect it joins again before the next read.
   * On unsubscribe it cancels the read in flight (a late reply's records are nacked back at once,
   * `docs/protocol-decisions.md` #5) and leaves the group; records emitted and not yet settled are handed back at once
   * (a plain nack), unless the subscriber took what it wanted (`take(n)`, `first()`): those stay its
   * own to settle.
   *
   * @example
   * flo.stream.group('orders', 'billing').pipe(settle((rec) => bill(rec.data<Order>()), { concurrency: 5 }))
   */
  group<T = unknown>(stream: string, group: string, options: StreamGroupOptions = {}): Observable<GroupRecord<T>> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
      if (options.consumer !== undefined) requireName('consumer', options.consumer);
      checkPositiveInt('ackTimeoutMs', options.ackTimeoutMs ?? STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS);
    }, (s) => s.group<T>(stream, group, options));
  }

  /**
   * One group read (the Go SDK's `GroupRead`): emits the leased records, then completes. Records the
   * subscriber leaves before seeing (e.g. `take(1)`) are nacked back at once. `blockMs` 0 or
   * absent: do not wait.
   */
  groupRead<T = unknown>(stream: string, group: string, consumer: string, options: StreamGroupReadOptions = {}): Observable<GroupRecord<T>> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
      if (options.count !== undefined) checkCount('count', options.count, STREAM_DEFAULT_READ_COUNT);
      if (options.blockMs !== undefined) checkBlockMs(options.blockMs, { allowZero: true });
      checkPositiveInt('ackTimeoutMs', options.ackTimeoutMs ?? STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS);
    }, (s) => s.groupRead<T>(stream, group, consumer, options));
  }

  /** Acknowledges records of a group (an empty list sends nothing). Emits once, completes. */
  groupAck(stream: string, group: string, ids: readonly StreamId[], options: StreamGroupIdsOptions = {}): Observable<void> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupAck(stream, group, ids, options));
  }

  /**
   * Gives records back to the group: redelivered (to any consumer) after `delayMs`, or at once
   * (`docs/protocol-decisions.md` #23). An empty list sends nothing. Emits once, completes.
   */
  groupNack(stream: string, group: string, ids: readonly StreamId[], options: StreamGroupNackOptions = {}): Observable<void> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupNack(stream, group, ids, options));
  }

  /** Extends the ack deadline of pending records. Emits how many were touched. */
  groupTouch(stream: string, group: string, ids: readonly StreamId[], options: StreamGroupTouchOptions = {}): Observable<number> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupTouch(stream, group, ids, options));
  }

  /** Joins a group as `consumer` (creating the group if needed). Idempotent. `group()` does it for you. */
  groupJoin(stream: string, group: string, consumer: string, options: RequestOptions = {}): Observable<StreamGroupJoinReply> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupJoin(stream, group, consumer, options));
  }

  /** Leaves a group (its pending records stay pending). `NotFoundError` for an unknown group. */
  groupLeave(stream: string, group: string, consumer: string, options: RequestOptions = {}): Observable<void> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupLeave(stream, group, consumer, options));
  }

  /** Creates a group with its settings; `ConflictError` if it exists (joining creates one with the defaults). */
  groupCreate(stream: string, group: string, options: StreamGroupCreateOptions = {}): Observable<void> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupCreate(stream, group, options));
  }

  /** Pending count, member count and creation time of a group. `NotFoundError` for an unknown group. */
  groupInfo(stream: string, group: string, options: RequestOptions = {}): Observable<StreamGroupInfo> {
    return this.via_(() => {
      requireName('stream', stream);
      requireName('group', group);
    }, (s) => s.groupInfo(stream, group, options));
  }

  /** The calls' code, once loaded (undefined before). */
  private loaded_(): StreamCalls.StreamApi | undefined {
    if (this.calls_ === undefined) {
      const module = loadCalls.loaded;
      if (module !== undefined) this.calls_ = new module.StreamApi(this.core);
    }
    return this.calls_;
  }

  /**
   * `use(calls)` at once when the calls' code is loaded; else a cold Observable that runs `check`
   * at subscription (argument errors do not wait for the code, and nothing loads for them), then
   * loads the code and runs `use` (which checks again: the code checks on every call).
   */
  private via_<T>(check: () => void, use: (calls: StreamCalls.StreamApi) => Observable<T>): Observable<T> {
    const calls = this.loaded_();
    if (calls !== undefined) return use(calls);
    return defer(() => {
      check();
      return loadCalls(() => use(this.loaded_()!));
    });
  }
}
