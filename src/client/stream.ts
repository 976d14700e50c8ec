import {
  concat,
  concatMap,
  defer,
  finalize,
  ignoreElements,
  map,
  mergeMap,
  Observable,
  of,
  repeat,
  retry,
  Subject,
  take,
  tap,
  throwError,
} from 'rxjs';
import { valuePayload } from '../codec/payload.js';
import type { ValueCodec } from '../codec/types.js';
import { ownPendingClaimer } from './stream-claim.js';
import { isConnectionLost } from '../protocol/errors.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import type { StreamId } from '../protocol/options.js';
import { Status } from '../protocol/status.js';
import {
  formatStreamId,
  compareStreamIds,
  decodeStreamAppendReply,
  decodeStreamEmptyReply,
  decodeStreamGroupClaimReply,
  decodeStreamGroupInfoReply,
  decodeStreamGroupJoinReply,
  decodeStreamGroupPendingReply,
  decodeStreamGroupReadReply,
  decodeStreamGroupTouchReply,
  decodeStreamInfoReply,
  decodeStreamReadReply,
  decodeStreamTrimReply,
  encodeStreamAppend,
  encodeStreamGroupAck,
  encodeStreamGroupClaim,
  encodeStreamGroupCreate,
  encodeStreamGroupInfo,
  encodeStreamGroupJoin,
  encodeStreamGroupLeave,
  encodeStreamGroupNack,
  encodeStreamGroupPending,
  encodeStreamGroupRead,
  encodeStreamGroupTouch,
  encodeStreamInfo,
  encodeStreamRead,
  encodeStreamTrim,
  STREAM_DEFAULT_READ_COUNT,
  STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS,
  type StreamGroupInfo,
  type StreamGroupJoinReply,
  type StreamHeadersInit,
  type StreamInfo,
  type StreamRecord as WireRecord,
  type StreamTrimReply,
  normalizeStreamHeaders,
} from '../protocol/stream.js';
import { checkBlockMs } from './core/block-ms.js';
import { createLease, eachLeased, handBack, type Lease, type Leased } from './core/lease.js';
import { leasingSource } from './core/leasing-source.js';
import { poll, waitForReconnect } from './core/poll.js';
import type { ClientCore, RequestOptions } from './core/context.js';
import type { Settler } from './core/settler.js';
import type { DrainOptions } from './core/drain.js';
import { ReadCursor } from './stream-cursor.js';
import { checkCount, checkPositiveInt, newConsumerId, requireName, toU64 } from './stream-args.js';
import { PayloadItem } from './core/payload-item.js';
import { settlesOf } from './core/settles.js';
import { drainOptionsOf } from './core/drain-of.js';

export type { StreamId } from '../protocol/options.js';
export type { StreamInfo, StreamTrimReply, StreamGroupInfo, StreamGroupJoinReply } from '../protocol/stream.js';

// ---------------------------------------------------------------------------------------------
// records

/** One record of a stream, as `read` and `tail` emit it. */
/** A stream record; `T` is the type `data()` decodes to by default (`flo.stream.tail<Order>('orders')`). */
export interface StreamRecord<T = unknown> {
  /** The stream name (the request's when the server leaves it out). */
  readonly stream: string;
  readonly id: StreamId;
  readonly payload: Uint8Array;
  /** The record's headers (on the wire an ordered list; a repeated key keeps its last value). */
  readonly headers: Record<string, string>;
  /** The partition the record was appended to (0 unless the stream has several). */
  readonly partition: number;
  /** The payload decoded with the client's codec (JSON by default); memoised, non-enumerable. */
  data<U = T>(): U;
}

/**
 * A record leased from a consumer group (`group`, `groupRead`): settle it with `ack()`, `nack()`,
 * `settle(handler)` or its `lease`. Its fields are the Go SDK's `StreamContext` accessors:
 * `payload`, `id` (`StreamID()`), `stream`, `headers`, `namespace`, `group`, `consumer`,
 * `data<T>()` (`Into(&v)`), and the record itself (`Record()`).
 */
export interface GroupRecord<T = unknown> extends StreamRecord<T>, Leased {
  readonly namespace: string;
  readonly group: string;
  /** The consumer the record was delivered to. */
  readonly consumer: string;
  /** Delivery count, when the server reports it (group reads do not: undefined). */
  readonly deliveryCount?: number;
  /** Ack (group ack), nack (group nack, `delayMs` = redelivery delay) or touch (group touch). */
  readonly lease: Lease;
}

// ---------------------------------------------------------------------------------------------
// options

/** Options of `stream.append`. */
export interface StreamAppendOptions extends RequestOptions {
  /** Record headers, sent in insertion order (`docs/protocol-decisions.md` #2). */
  readonly headers?: Record<string, string> | StreamHeadersInit;
  /** Partition key, hashed by the server to choose the partition. */
  readonly partitionKey?: string | Uint8Array;
  /** Explicit partition (wins over `partitionKey`). */
  readonly partition?: number;
}

/** Options of `stream.read` (a finite, paged read). */
export interface StreamReadOptions extends RequestOptions {
  /** First id to read (inclusive), or `'start'` (default). */
  readonly from?: StreamId | 'start';
  /** Last id to read (inclusive); default: up to the end of the stream as it is when the pages are read. */
  readonly to?: StreamId;
  /** Records per request, 1 to 1000. Default 100. */
  readonly pageSize?: number;
  /** Only records of this partition. Default: all. */
  readonly partition?: number;
}

/** Options of `stream.tail` (an infinite read). */
export interface StreamTailOptions extends RequestOptions {
  /**
   * Where to begin: `'end'` (default: only records appended after the subscription), `'start'`
   * (the whole stream, then new records), or an id (inclusive).
   */
  readonly from?: 'start' | 'end' | StreamId;
  /** Records per request, 1 to 1000. Default 100. */
  readonly pageSize?: number;
  /** Long-poll of each request, 1 to 300 000 ms. Default 30 000. */
  readonly blockMs?: number;
  /** Only records of this partition. Default: all. */
  readonly partition?: number;
}

/** Options of `stream.group` (leased group records, forever). */
export interface StreamGroupOptions extends RequestOptions, DrainOptions {
  /** Consumer id within the group. Default: generated, unique per subscription (`flo-rx-<hex>`). */
  readonly consumer?: string;
  /**
   * Most records asked for by one group read. Default 10. With `maxInFlight` at least twice
   * `batch`, a second read goes out beside the first while reads come back full (a backlog), so
   * the server prepares the next batch while the records of the last one are worked on.
   */
  readonly batch?: number;
  /** Most unsettled records held at once (records asked for count too). Default: `batch`. */
  readonly maxInFlight?: number;
  /** Long-poll of each group read, 1 to 300 000 ms. Default 30 000. */
  readonly blockMs?: number;
  /**
   * The group's ack timeout, i.e. each record's lease length (`lease.leaseMs`, what `renewLease`
   * paces its touches by). It must match the group's setting on the server (default 30 000 there
   * too; see `groupCreate`). Default 30 000.
   */
  readonly ackTimeoutMs?: number;
  /**
   * After every reconnect, claim this consumer's own pending records that this subscription never
   * emitted (e.g. those of a group read whose reply was lost with the connection) before reading new
   * ones, so they come back at once instead of after the ack timeout, as Redis's `XAUTOCLAIM` does.
   * Default true.
   */
  readonly claimPending?: boolean;
}

/** Options of `stream.groupRead` (one read). */
export interface StreamGroupReadOptions extends RequestOptions {
  /** Most records to return. Default: the server's (100). */
  readonly count?: number;
  /** Wait up to this long for records, 0 to 300 000 ms. Default: do not wait. */
  readonly blockMs?: number;
  /** Lease length given to the records (`lease.leaseMs`). Default 30 000. */
  readonly ackTimeoutMs?: number;
}

/** Options of `stream.trim`: at least one bound. */
export interface StreamTrimOptions extends RequestOptions {
  /** Keep at most the newest N records. */
  readonly maxLen?: number | bigint;
  /** Remove records older than this many seconds. */
  readonly maxAgeSeconds?: number | bigint;
  /** Remove the oldest records until the payloads total at most N bytes. */
  readonly maxBytes?: number | bigint;
  /** Report what would be removed without removing it. */
  readonly dryRun?: boolean;
}

/** Options of the group calls that take record ids (`groupAck`, ...). */
export interface StreamGroupIdsOptions extends RequestOptions {
  /** Sent in the request; the server ignores it (the Go worker sends `""`). Default `""`. */
  readonly consumer?: string;
}

/** Options of `stream.groupNack`. */
export interface StreamGroupNackOptions extends StreamGroupIdsOptions {
  /** Redeliver no sooner than this many ms from now. Default: at once, to any consumer (`docs/protocol-decisions.md` #23). */
  readonly delayMs?: number;
}

/** Options of `stream.groupTouch` (a lease extension). */
export interface StreamGroupTouchOptions extends StreamGroupIdsOptions {
  /** New ack deadline = now + this; default now + the group's ack timeout. */
  readonly extendMs?: number;
}

/** Options of `stream.groupCreate`. */
export interface StreamGroupCreateOptions extends RequestOptions {
  /** Redeliver records not acked within this many ms (server default 30 000; 0 = never). */
  readonly ackTimeoutMs?: number;
  /** Drop a record from the pending list after this many deliveries (server default 10; 0 = never). */
  readonly maxDeliver?: number;
}

// ---------------------------------------------------------------------------------------------
// helpers

// (the argument checks and `newConsumerId` are in stream-args.ts)
export { newConsumerId } from './stream-args.js';

// ---------------------------------------------------------------------------------------------

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
  private readonly settlers_ = new Map<string, Settler<StreamId>>();

  constructor(protected readonly core: ClientCore) {}

  // -------------------------------------------------------------------------------------------
  // records

  /**
   * Appends one record (sent as a batch frame of one, headers in insertion order: `docs/protocol-decisions.md` #2).
   * `payload`: bytes as is, a string as UTF-8, anything else through the client's codec.
   * Emits the record's id, then completes.
   */
  append(stream: string, payload: unknown, options?: StreamAppendOptions): Observable<StreamId> {
    const core = this.core;
    // A hot write path: one Observable per call (`lazyCall`), no option objects without options.
    return core.lazyCall(() => {
      requireName('stream', stream);
      const inject = core.telemetry?.injectHeaders;
      if (options === undefined && inject === undefined) {
        return core.spec(Op.StreamAppend, encodeStreamAppend({ stream, payload: valuePayload(payload, core.codec, 'payload') }));
      }
      const headers =
        inject !== undefined
          ? inject('stream_append', stream, Object.fromEntries(normalizeStreamHeaders(options?.headers)))
          : options?.headers;
      const body = encodeStreamAppend({
        stream,
        payload: valuePayload(payload, core.codec, 'payload'),
        ...(headers !== undefined ? { headers } : {}),
        ...(options?.partition !== undefined ? { partition: options.partition } : {}),
        ...(options?.partitionKey !== undefined ? { partitionKey: options.partitionKey } : {}),
      });
      return core.spec(Op.StreamAppend, body, options);
    }, decodeStreamAppendReply);
  }

  /**
   * Reads `[from, to]` and completes: emits records one by one, fetching `pageSize` records per
   * request and the next page only once the previous one has been consumed and the subscriber is
   * still there. It stops after `to`, or when a page comes back short (the end of the stream as it
   * was then). Pages resume with `start = lastId` and drop ids ≤ lastId (`docs/protocol-decisions.md` #13); a lost
   * connection is waited out and the read resumes where it was.
   */
  read<T = unknown>(stream: string, options: StreamReadOptions = {}): Observable<StreamRecord<T>> {
    return defer(() => {
      requireName('stream', stream);
      const pageSize = checkCount('pageSize', options.pageSize, STREAM_DEFAULT_READ_COUNT);
      const from = options.from === undefined || options.from === 'start' ? undefined : options.from;
      const to = options.to;
      if (from && to && compareStreamIds(from, to) > 0) return of<StreamRecord>();
      const cursor = new ReadCursor(from);
      let done = false;
      const page$ = defer(() => {
        const sent = cursor.next(pageSize);
        return this.readOnce_(stream, { ...options, ...sent, ...(to ? { end: to } : {}) }).pipe(
          map((records) => {
            const fresh = cursor.accept(records, sent);
            const inRange = to ? fresh.filter((r) => compareStreamIds(r.id, to) <= 0) : fresh;
            const last = cursor.lastId;
            done =
              records.length < sent.count ||
              fresh.length === 0 || // a full page with nothing new: a server that does not move; stop
              (to !== undefined && last !== undefined && compareStreamIds(last, to) >= 0);
            return inRange;
          }),
        );
      }).pipe(retry({ delay: (e: unknown) => (isConnectionLost(e) ? waitForReconnect(this.core.channel, e) : throwError(() => e)) }));
      return page$.pipe(
        repeat({ delay: () => (done ? of<never>() : of(0)) }),
        mergeMap((records) => records),
      );
    });
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
    return defer(() => {
      requireName('stream', stream);
      const pageSize = checkCount('pageSize', options.pageSize, STREAM_DEFAULT_READ_COUNT);
      const from = options.from ?? 'end';
      const cursor = new ReadCursor(typeof from === 'object' ? from : undefined);
      let positioned = from !== 'end';
      const readNext = (blockMs: number) =>
        defer(() => {
          const sent = cursor.next(pageSize);
          return this.readOnce_(stream, { ...options, ...sent, blockMs }).pipe(map((records) => cursor.accept(records, sent)));
        });
      const request = (blockMs: number): Observable<StreamRecord[]> =>
        positioned
          ? readNext(blockMs)
          : this.info(stream, options).pipe(
              tap((info) => {
                if (info.lastId.timestampMs > 0n || info.lastId.sequence > 0n) cursor.resumeAfter(info.lastId);
                positioned = true;
              }),
              mergeMap(() => readNext(blockMs)),
            );
      return poll(this.core.channel, request, {
        ...(options.blockMs !== undefined ? { blockMs: options.blockMs } : {}),
        onReconnect: () => {
          cursor.forgetEchoes();
          return of<never>();
        },
      }).pipe(mergeMap((records) => records));
    });
  }

  /** Stream metadata: first and last ids, record count, bytes, partitions, retention. */
  info(stream: string, options: RequestOptions = {}): Observable<StreamInfo> {
    return defer(() => {
      requireName('stream', stream);
      return this.core.call(this.core.spec(Op.StreamInfo, encodeStreamInfo({ stream }), options), decodeStreamInfoReply);
    });
  }

  /**
   * Removes old records: keep the newest `maxLen`, drop those older than `maxAgeSeconds`, or the
   * oldest until at most `maxBytes` remain (several bounds combine). `dryRun` reports only.
   * Emits `{ removed, firstSeq }`. At least one bound is required (else `BadRequestError`).
   */
  trim(stream: string, options: StreamTrimOptions = {}): Observable<StreamTrimReply> {
    return defer(() => {
      requireName('stream', stream);
      const maxLen = toU64('maxLen', options.maxLen);
      const maxAgeSeconds = toU64('maxAgeSeconds', options.maxAgeSeconds);
      const maxBytes = toU64('maxBytes', options.maxBytes);
      const body = encodeStreamTrim({
        stream,
        ...(maxLen !== undefined ? { maxLen } : {}),
        ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}),
        ...(maxBytes !== undefined ? { maxBytes } : {}),
        ...(options.dryRun ? { dryRun: true } : {}),
      });
      return this.core.call(this.core.spec(Op.StreamTrim, body, options), decodeStreamTrimReply);
    });
  }

  // -------------------------------------------------------------------------------------------
  // consumer groups

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
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      const consumer = options.consumer ?? newConsumerId();
      requireName('consumer', consumer);
      const leaseMs = checkPositiveInt('ackTimeoutMs', options.ackTimeoutMs ?? STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS);
      const req: RequestOptions = { namespace: this.core.ns(options), ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}) };
      const toRecords = this.groupRecordFactory_(stream, group, consumer, leaseMs, req);
      // Per subscription: tells the tracing integration when this pipeline ends.
      const ended = this.core.telemetry?.onDelivered ? new AbortController() : undefined;

      let joined = false;
      let joinSent = false;
      const join$ = defer(() => {
        joinSent = true;
        return this.groupJoin(stream, group, consumer, req);
      }).pipe(tap({ complete: () => (joined = true) }));
      const claimPending = options.claimPending ?? true;
      const claimer = ownPendingClaimer({
        pending: () => this.ownPendingRaw_(stream, group, consumer, req),
        claimAt: (id) => this.claimAtRaw_(stream, group, consumer, id, req, toRecords),
      });
      // The source keeps two reads in flight; claims run one at a time (each lists and claims the
      // pending entries): a read that would claim while another claims waits for it to end.
      let claiming = false;
      const claimEnded = new Subject<void>();
      const fetch = (n: number, blockMs: number): Observable<readonly GroupRecord[]> => {
        const read$ = this.groupReadRaw_(stream, group, consumer, { ...req, count: n, blockMs }, toRecords).pipe(map(claimer.hold));
        const next$ = defer((): Observable<readonly GroupRecord[]> => {
          if (!claimer.active) return read$;
          if (claiming) return claimEnded.pipe(take(1), concatMap(() => fetch(n, blockMs)));
          claiming = true;
          return claimer.fetch(n).pipe(
            finalize(() => {
              claiming = false;
              claimEnded.next();
            }),
            concatMap((claimed) => (claimed.length > 0 ? of(claimed) : read$)),
          );
        });
        return joined ? next$ : concat(join$.pipe(ignoreElements()), next$);
      };
      return leasingSource<GroupRecord>({
        signals: this.core.channel,
        fetch,
        exclusive: () => !joined || claimer.active,
        ...(options.batch !== undefined ? { batch: options.batch } : {}),
        ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
        ...(options.blockMs !== undefined ? { blockMs: options.blockMs } : {}),
        onReconnect: () => {
          if (claimPending) claimer.start();
          return join$;
        },
        ...drainOptionsOf<GroupRecord>(this.core, `group:${stream}/${group}`, options),
        ...(this.core.telemetry?.onDelivered
          ? {
              onDeliver: (r: GroupRecord) =>
                this.core.telemetry!.onDelivered!({
                  system: 'stream',
                  destination: stream,
                  namespace: r.namespace,
                  group,
                  headers: r.headers,
                  lease: r.lease,
                  pipelineEnded: ended!.signal,
                }),
            }
          : {}),
      }).pipe(
        finalize(() => {
          ended?.abort();
          if (joinSent) this.groupLeave(stream, group, consumer, req).subscribe({ error: () => undefined });
        }),
      );
    });
  }

  /**
   * One group read (the Go SDK's `GroupRead`): emits the leased records, then completes. Records the
   * subscriber leaves before seeing (e.g. `take(1)`) are nacked back at once. `blockMs` 0 or
   * absent: do not wait.
   */
  groupRead<T = unknown>(stream: string, group: string, consumer: string, options: StreamGroupReadOptions = {}): Observable<GroupRecord<T>> {
    return eachLeased(
      defer(() => {
        requireName('stream', stream);
        requireName('group', group);
        const count = options.count === undefined ? undefined : checkCount('count', options.count, STREAM_DEFAULT_READ_COUNT);
        const blockMs = options.blockMs === undefined ? undefined : checkBlockMs(options.blockMs, { allowZero: true });
        const leaseMs = checkPositiveInt('ackTimeoutMs', options.ackTimeoutMs ?? STREAM_GROUP_DEFAULT_ACK_TIMEOUT_MS);
        const toRecords = this.groupRecordFactory_(stream, group, consumer, leaseMs, options);
        return this.groupReadRaw_(
          stream,
          group,
          consumer,
          { ...options, ...(count !== undefined ? { count } : {}), ...(blockMs ? { blockMs } : {}) },
          toRecords,
        );
      }),
    );
  }

  /** Acknowledges records of a group (an empty list sends nothing). Emits once, completes. */
  groupAck(stream: string, group: string, ids: readonly StreamId[], options: StreamGroupIdsOptions = {}): Observable<void> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      if (ids.length === 0) return of(undefined);
      const body = encodeStreamGroupAck({ stream, group, consumer: options.consumer ?? '', ids });
      return this.core.call(this.core.spec(Op.StreamGroupAck, body, options), decodeStreamEmptyReply);
    });
  }

  /**
   * Gives records back to the group: redelivered (to any consumer) after `delayMs`, or at once
   * (`docs/protocol-decisions.md` #23). An empty list sends nothing. Emits once, completes.
   */
  groupNack(stream: string, group: string, ids: readonly StreamId[], options: StreamGroupNackOptions = {}): Observable<void> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      if (ids.length === 0) return of(undefined);
      const body = encodeStreamGroupNack({
        stream,
        group,
        consumer: options.consumer ?? '',
        ids,
        ...(options.delayMs !== undefined ? { redeliveryDelayMs: options.delayMs } : {}),
      });
      return this.core.call(this.core.spec(Op.StreamGroupNack, body, options), decodeStreamEmptyReply);
    });
  }

  /** Extends the ack deadline of pending records. Emits how many were touched. */
  groupTouch(stream: string, group: string, ids: readonly StreamId[], options: StreamGroupTouchOptions = {}): Observable<number> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      const body = encodeStreamGroupTouch({
        stream,
        group,
        consumer: options.consumer ?? '',
        ids,
        ...(options.extendMs !== undefined ? { extendMs: options.extendMs } : {}),
      });
      return this.core.call(this.core.spec(Op.StreamGroupTouch, body, options), decodeStreamGroupTouchReply);
    });
  }

  /** Joins a group as `consumer` (creating the group if needed). Idempotent. `group()` does it for you. */
  groupJoin(stream: string, group: string, consumer: string, options: RequestOptions = {}): Observable<StreamGroupJoinReply> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      return this.core.call(this.core.spec(Op.StreamGroupJoin, encodeStreamGroupJoin({ stream, group, consumer }), options), decodeStreamGroupJoinReply);
    });
  }

  /** Leaves a group (its pending records stay pending). `NotFoundError` for an unknown group. */
  groupLeave(stream: string, group: string, consumer: string, options: RequestOptions = {}): Observable<void> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      return this.core.call(this.core.spec(Op.StreamGroupLeave, encodeStreamGroupLeave({ stream, group, consumer }), options), decodeStreamEmptyReply);
    });
  }

  /** Creates a group with its settings; `ConflictError` if it exists (joining creates one with the defaults). */
  groupCreate(stream: string, group: string, options: StreamGroupCreateOptions = {}): Observable<void> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      const body = encodeStreamGroupCreate({
        stream,
        group,
        ...(options.ackTimeoutMs !== undefined ? { ackTimeoutMs: options.ackTimeoutMs } : {}),
        ...(options.maxDeliver !== undefined ? { maxDeliver: options.maxDeliver } : {}),
      });
      return this.core.call(this.core.spec(Op.StreamGroupCreate, body, options), decodeStreamEmptyReply);
    });
  }

  /** Pending count, member count and creation time of a group. `NotFoundError` for an unknown group. */
  groupInfo(stream: string, group: string, options: RequestOptions = {}): Observable<StreamGroupInfo> {
    return defer(() => {
      requireName('stream', stream);
      requireName('group', group);
      return this.core.call(this.core.spec(Op.StreamGroupInfo, encodeStreamGroupInfo({ stream, group }), options), decodeStreamGroupInfoReply);
    });
  }

  // -------------------------------------------------------------------------------------------
  // internals

  /** One STREAM_READ, decoded into records. */
  private readOnce_(
    stream: string,
    q: RequestOptions & { start?: StreamId; end?: StreamId; count: number; blockMs?: number; partition?: number },
  ): Observable<StreamRecord[]> {
    const body = encodeStreamRead({
      stream,
      ...(q.start ? { start: q.start } : {}),
      ...(q.end ? { end: q.end } : {}),
      ...(q.partition !== undefined ? { partition: q.partition } : {}),
      count: q.count,
      ...(q.blockMs !== undefined ? { blockMs: q.blockMs } : {}),
    });
    const spec = this.core.spec(Op.StreamRead, body, { namespace: q.namespace, timeoutMs: q.timeoutMs, ...(q.blockMs !== undefined ? { blockMs: q.blockMs } : {}) });
    return this.core.call(spec, (payload) => decodeStreamReadReply(payload).map((r) => this.toRecord_(stream, r)));
  }

  /** This consumer's pending entry ids (STREAM_GROUP_PENDING with the consumer filter). */
  private ownPendingRaw_(stream: string, group: string, consumer: string, req: RequestOptions): Observable<StreamId[]> {
    const spec = this.core.spec(Op.StreamGroupPending, encodeStreamGroupPending({ stream, group, consumer }), req);
    return this.core.call(spec, (payload) => decodeStreamGroupPendingReply(payload).filter((e) => e.consumer === consumer).map((e) => e.id));
  }

  /** STREAM_GROUP_CLAIM of one entry (start = `id`, count 1, min idle 0); a late reply's records are handed back. */
  private claimAtRaw_(
    stream: string,
    group: string,
    consumer: string,
    id: StreamId,
    req: RequestOptions,
    toRecords: (wire: readonly WireRecord[]) => GroupRecord[],
  ): Observable<GroupRecord[]> {
    const body = encodeStreamGroupClaim({ stream, group, consumer, minIdleMs: 0, start: id, count: 1 });
    const spec = this.core.spec(Op.StreamGroupClaim, body, {
      ...req,
      onLateReply: (reply) => {
        if (reply.status !== Status.OK) return;
        try {
          handBack(toRecords(decodeStreamGroupClaimReply(reply.payload).records));
        } catch {
          // undecodable: the records come back after their ack timeout
        }
      },
    });
    return this.core.call(spec, (payload) => toRecords(decodeStreamGroupClaimReply(payload).records));
  }

  /** One STREAM_GROUP_READ; a reply that arrives after its subscriber left is handed back. */
  private groupReadRaw_(
    stream: string,
    group: string,
    consumer: string,
    q: RequestOptions & { count?: number; blockMs?: number },
    toRecords: (wire: readonly WireRecord[]) => GroupRecord[],
  ): Observable<GroupRecord[]> {
    const body = encodeStreamGroupRead({
      stream,
      group,
      consumer,
      ...(q.count !== undefined ? { count: q.count } : {}),
      ...(q.blockMs !== undefined ? { blockMs: q.blockMs } : {}),
    });
    const spec = this.core.spec(Op.StreamGroupRead, body, {
      namespace: q.namespace,
      timeoutMs: q.timeoutMs,
      ...(q.blockMs ? { blockMs: q.blockMs } : {}),
      onLateReply: (reply) => {
        if (reply.status !== Status.OK) return;
        let wire: WireRecord[];
        try {
          wire = decodeStreamGroupReadReply(reply.payload);
        } catch {
          return; // undecodable: the records come back after their ack timeout
        }
        handBack(toRecords(wire));
        if (wire.length > 0) this.core.emit({ type: 'handed-back', source: `group:${stream}/${group}`, count: wire.length, reason: 'late-reply' });
      },
    });
    return this.core.call(spec, (payload) => toRecords(decodeStreamGroupReadReply(payload)));
  }

  private toRecord_(stream: string, r: WireRecord): StreamRecord {
    return new Rec(stream, r, this.core.codec);
  }

  private groupRecordFactory_(
    stream: string,
    group: string,
    consumer: string,
    leaseMs: number,
    req: RequestOptions,
  ): (wire: readonly WireRecord[]) => GroupRecord[] {
    const namespace = this.core.ns(req);
    const settler = this.settlerFor_(namespace, stream, group, req.timeoutMs);
    const coalescer = settlesOf(this.core);
    const context = this.core.leaseContext(`group:${stream}/${group}`);
    const init = { leaseMs, coalescer, context, formatId: formatStreamId as (id: never) => string };
    const codec = this.core.codec;
    return (wire) => wire.map((r) => new GroupRec(stream, r, codec, namespace, group, consumer, createLease(r.id, settler, init)));
  }

  /** One settler per (namespace, stream, group, timeout), so the settles of a tick coalesce per group. */
  private settlerFor_(namespace: string, stream: string, group: string, timeoutMs: number | undefined): Settler<StreamId> {
    const key = JSON.stringify([namespace, stream, group, timeoutMs ?? null]);
    let settler = this.settlers_.get(key);
    if (!settler) {
      const req: RequestOptions = { namespace, ...(timeoutMs !== undefined ? { timeoutMs } : {}) };
      settler = {
        ack: (ids) => this.groupAck(stream, group, ids, req),
        // Streams have no DLQ: `toDlq` is ignored (the group drops a record after max_deliver).
        nack: (ids, o) => this.groupNack(stream, group, ids, { ...req, ...(o.delayMs !== undefined ? { delayMs: o.delayMs } : {}) }),
        touch: (ids, o) => this.groupTouch(stream, group, ids, { ...req, ...(o.extendMs !== undefined ? { extendMs: o.extendMs } : {}) }),
      };
      this.settlers_.set(key, settler);
    }
    return settler;
  }
}

/** The headers object of a record (a repeated key keeps its last value). */
function headersOf(wire: WireRecord['headers']): Record<string, string> {
  return wire.length === 0 ? {} : (Object.fromEntries(wire) as Record<string, string>);
}

/** A stream record: the wire fields are its own properties; `data<T>()` is on the prototype. */
class Rec extends PayloadItem implements StreamRecord {
  readonly stream: string;
  readonly id: StreamId;
  readonly payload: Uint8Array;
  readonly headers: Record<string, string>;
  readonly partition: number;

  constructor(stream: string, r: WireRecord, codec: ValueCodec) {
    super(codec);
    this.stream = r.stream ?? stream;
    this.id = r.id;
    this.payload = r.payload;
    this.headers = headersOf(r.headers);
    this.partition = r.partition;
  }
}

/** A record leased from a consumer group: a `Rec` and where it was delivered, with its lease. */
class GroupRec extends Rec implements GroupRecord {
  readonly namespace: string;
  readonly group: string;
  readonly consumer: string;
  readonly lease: Lease;

  constructor(stream: string, r: WireRecord, codec: ValueCodec, namespace: string, group: string, consumer: string, lease: Lease) {
    super(stream, r, codec);
    this.namespace = namespace;
    this.group = group;
    this.consumer = consumer;
    this.lease = lease;
  }
}
