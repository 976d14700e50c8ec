import { map, type Observable, type SchedulerLike } from 'rxjs';
import { jsonCodec, type ValueCodec } from '../codec/index.js';
import type { ConnectionInfo, ConnectionState, RequestChannel } from '../connection/types.js';
import { EventHub, type FloEvent } from '../observability/events.js';
import type { ClientTelemetry } from '../observability/telemetry.js';
import { ClientClosedError, InvalidArgumentError } from '../protocol/errors.js';
import { resolveRetry, type RetryOptions } from './core/retry.js';
import { KvApi } from './kv.js';
import { QueueApi } from './queue.js';
import { StreamApi } from './stream-api.js';
import { ActionsApi } from './actions.js';
import { WorkflowApi } from './workflow.js';
import { ProcessingApi } from './processing/index.js';
import { createClientCore, type ClientCore, type NamespaceOption } from './core/context.js';
import { checkSlowHandlerMs } from './core/slow-handler.js';
import { requireName } from './core/require-name.js';

/** The connection as the client sees it: requests and state, plus optional lifecycle. */
export type ClientChannel = RequestChannel & {
  /** Opens the connection now; resolves once connected. */
  connect?(): Promise<void>;
  /** Closes the connection for good. */
  close?(): Promise<void>;
  /** The current state with its endpoint and last error. */
  readonly info?: ConnectionInfo;
};

/** Options of a `FloClient` (part of `ConnectOptions`). */
export interface FloClientOptions {
  /** Namespace of every call that does not pass its own `namespace`. Default `'default'`. */
  readonly namespace?: string;
  /** Codec for values that are neither bytes nor strings, and for `data<T>()`. Default `jsonCodec`. */
  readonly codec?: ValueCodec;
  /** Per-request timeout in ms (a long-poll adds its block time). Default: the connection's. */
  readonly timeoutMs?: number;
  /** Scheduler of the settle coalescer's end-of-tick flush. Default `asapScheduler`; tests only. */
  readonly scheduler?: SchedulerLike;
  /**
   * Retries of single requests answered `OVERLOADED`, `RATE_LIMITED` or `UNAVAILABLE` (Flo's "not
   * leader"): jittered exponential backoff, up to `retries` resends. (A lost connection is ridden
   * out by the read loops and the settle resends, not by this.)
   * Only operations safe to send twice (reads, acks/nacks/touches, CAS writes) unless
   * `nonIdempotent: true`; `OVERLOADED`/`RATE_LIMITED` (the server did nothing) are always
   * retried. `false` turns retries off. Default `{ retries: 3, minDelayMs: 50, maxDelayMs: 2000 }`.
   */
  readonly retry?: RetryOptions | false;
  /**
   * A tracing integration, e.g. `floOtel()` from `flo-rx/otel`: it injects trace context into the
   * headers of appended records and starts a consumer span for each delivered item.
   */
  readonly telemetry?: ClientTelemetry;
  /**
   * A handler of `settle` or of an action worker still running after this many ms is reported once
   * (a `slow-handler` event on `events$`, a `warn` line in the logger), while it runs. `settle` and
   * the worker accept their own `slowHandlerMs`. `Infinity` turns it off. Default 10 000.
   */
  readonly slowHandlerMs?: number;
}

/**
 * One client over one (multiplexed) connection. Every method of its subsystem APIs returns a cold
 * Observable; all of them share the connection.
 */
export class FloClient {
  /** The default namespace. */
  declare readonly namespace: string;
  /** The value codec. */
  declare readonly codec: ValueCodec;
  /** Connection state: replayed, then every change. */
  declare readonly state$: Observable<ConnectionState>;
  /**
   * The connection state with the endpoint tried and the last error (ECONNREFUSED, ENOTFOUND...):
   * replayed, then every change.
   */
  declare readonly connection$: Observable<ConnectionInfo>;
  /**
   * What the client does, as typed events: connecting / connected / disconnected, reconnect
   * scheduled, retried requests, handed-back items, settle resends, drains. Hot (no replay).
   */
  declare readonly events$: Observable<FloEvent>;
  /** @internal The machinery the subsystem APIs are built on. */
  declare readonly core: ClientCore;

  /** Key/value store: get, put, watch, scan, transactions, ... */
  get kv(): KvApi {
    return (this.apis_.kv ??= new KvApi(this.core));
  }
  /** Priority queues with leases and a dead-letter queue. */
  get queue(): QueueApi {
    return (this.apis_.queue ??= new QueueApi(this.core));
  }
  /** Append-only streams and consumer groups. */
  get stream(): StreamApi {
    return (this.apis_.stream ??= new StreamApi(this.core));
  }
  /** Actions and reactive action workers. */
  get actions(): ActionsApi {
    return (this.apis_.actions ??= new ActionsApi(this.core));
  }
  /** Durable workflows. */
  get workflow(): WorkflowApi {
    return (this.apis_.workflow ??= new WorkflowApi(this.core));
  }
  /** Stream-processing jobs: submit, status, stop, savepoints, watch, ... */
  get processing(): ProcessingApi {
    return (this.apis_.processing ??= new ProcessingApi(this.core));
  }

  // Each subsystem API is built on first access: a client that only uses `kv` never constructs the rest.
  private readonly apis_: {
    kv?: KvApi;
    queue?: QueueApi;
    stream?: StreamApi;
    actions?: ActionsApi;
    workflow?: WorkflowApi;
    processing?: ProcessingApi;
  } = {};
  private declare readonly channel_: ClientChannel;
  private declare readonly hub_: EventHub;
  private closing_: Promise<void> | undefined;

  /**
   * @param fork @internal Opens a sibling client (same endpoints and options, its own connection);
   * given by `connect()` / `connectWith()`, used by the action worker for its long-polls.
   * @param hub @internal Where the client's events go (`connect()` shares it with the connection).
   */
  constructor(channel: ClientChannel, options: FloClientOptions = {}, fork?: () => FloClient, hub?: EventHub) {
    const namespace = requireName('namespace', options.namespace ?? 'default');
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
    }
    this.channel_ = channel;
    this.namespace = namespace;
    this.codec = options.codec ?? jsonCodec;
    this.state$ = channel.state$;
    this.hub_ = hub ?? new EventHub();
    this.events$ = this.hub_.events$;
    this.connection$ =
      channel.info$ ??
      channel.state$.pipe(
        map((state): ConnectionInfo => ({ state, endpoint: undefined, failedAttempts: 0, lastError: undefined })),
      );
    this.core = createClientCore({
      channel,
      codec: this.codec,
      namespace,
      timeoutMs: options.timeoutMs,
      emit: this.hub_.emit,
      // Left undefined, each takes the core's default.
      retry: resolveRetry(options.retry),
      scheduler: options.scheduler,
      telemetry: options.telemetry,
      slowHandlerMs: options.slowHandlerMs === undefined ? undefined : checkSlowHandlerMs(options.slowHandlerMs, 'slowHandlerMs'),
      fork:
        fork &&
        (() => {
          if (this.closing_) throw new ClientClosedError('flo: the client is closed');
          return fork();
        }),
    });
  }

  /**
   * Opens the connection now instead of on first use. Resolves once connected; rejects with a
   * `ConnectionError` whose `cause` is the last socket error after `connectTimeoutMs` (default
   * 10 s; attempts go on in the background, and requests wait for them up to their own timeout).
   */
  async connect(): Promise<void> {
    await this.channel_.connect?.();
  }

  /** The connection state now, with the endpoint tried and the last error. */
  connectionInfo(): ConnectionInfo {
    return this.channel_.info ?? { state: 'idle', endpoint: undefined, failedAttempts: 0, lastError: undefined };
  }

  /**
   * Graceful stop of every leasing pipeline of this client (`queue.messages`, `stream.group`,
   * `streamWorker`, action workers): each stops leasing (the long-poll in flight is cancelled and
   * whatever it brings is handed back), lets running handlers finish for up to `timeoutMs`
   * (default 30 000; a pipeline's own `drainTimeoutMs` wins), settles them, hands back the items
   * still unsettled at the deadline (their `settle()` handlers' signals abort), and completes.
   * Resolves once every pipeline has completed and the settles are sent. Pipelines started after
   * a drain complete at once. The connection stays open: `await flo.drain(); await flo.close()`
   * is the graceful shutdown (`close()` alone ends live reads with `ClientClosedError` and leaves
   * leased items to their lease timeout).
   */
  async drain(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const deadlineMs = options.timeoutMs ?? 30_000;
    if (!(deadlineMs >= 0)) throw new InvalidArgumentError(`drain timeoutMs must be >= 0, got ${deadlineMs}`);
    const control = this.core.drain;
    // Built by the first pipeline (core/drain-of.ts). None yet: nothing to wait for, and the
    // request is kept, so that a pipeline started later completes at once.
    if (control !== undefined) await control.drain({ deadlineMs });
    else this.core.drainRequested ??= { deadlineMs };
    await this.core.settles?.flush();
  }

  /**
   * Sends the settles (acks, nacks, touches) still waiting for the end of the tick, waits for the
   * settle requests in flight, then closes the connection (which ends every read with
   * `ClientClosedError`). Does not drain: call `drain()` first for a graceful stop. Idempotent:
   * later calls return the same promise.
   */
  close(): Promise<void> {
    this.closing_ ??= (async () => {
      await this.core.settles?.flush(); // built on first use (core/settles.ts): none if nothing leased
      await this.channel_.close?.();
      this.hub_.complete();
    })();
    return this.closing_;
  }

  /** @internal The namespace of a call: its own `namespace` option, else the client's. */
  ns(opts?: NamespaceOption): string {
    return this.core.ns(opts);
  }
}
