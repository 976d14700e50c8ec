import { take, type Observable, type SchedulerLike } from 'rxjs';
import { jsonCodec, type ValueCodec } from '../codec/index.js';
import type { ConnectionState, RequestChannel } from '../connection/types.js';
import { ClientClosedError, InvalidArgumentError, isConnectionLost, isTimeout } from '../protocol/errors.js';
import { SettleCoalescer, type ResendPolicy } from './core/coalescer.js';
import { waitForReconnect } from './core/poll.js';
import { KvApi } from './kv.js';
import { QueueApi } from './queue.js';
import { StreamApi } from './stream.js';
import { ActionsApi } from './actions.js';
import { WorkflowApi } from './workflow.js';
import { createClientCore, type ClientCore, type NamespaceOption } from './core/context.js';

/** Settles lost with the connection are sent again once it is back, up to this many times. */
const SETTLE_RESENDS = 3;

function resendAfterReconnect(channel: RequestChannel, scheduler?: SchedulerLike): ResendPolicy {
  return (error, attempt) =>
    attempt <= SETTLE_RESENDS && (isConnectionLost(error) || isTimeout(error))
      ? waitForReconnect(channel, error, scheduler).pipe(take(1))
      : undefined;
}

/** The connection as the client sees it: requests and state, plus optional lifecycle. */
export type ClientChannel = RequestChannel & {
  /** Opens the connection now; resolves once connected. */
  connect?(): Promise<void>;
  /** Closes the connection for good. */
  close?(): Promise<void>;
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
}

/**
 * One client over one (multiplexed) connection. Every method of its subsystem APIs returns a cold
 * Observable; all of them share the connection.
 */
export class FloClient {
  /** The default namespace. */
  readonly namespace: string;
  /** The value codec. */
  readonly codec: ValueCodec;
  /** Connection state: replayed, then every change. */
  readonly state$: Observable<ConnectionState>;
  /** @internal The machinery the subsystem APIs are built on. */
  readonly core: ClientCore;

  /** Key/value store: get, put, watch, scan, transactions, ... */
  readonly kv: KvApi;
  /** Priority queues with leases and a dead-letter queue. */
  readonly queue: QueueApi;
  /** Append-only streams and consumer groups. */
  readonly stream: StreamApi;
  /** Actions and reactive action workers. */
  readonly actions: ActionsApi;
  /** Durable workflows. */
  readonly workflow: WorkflowApi;

  private readonly channel: ClientChannel;
  private closing: Promise<void> | undefined;

  /**
   * @param fork @internal Opens a sibling client (same endpoints and options, its own connection);
   * given by `connect()` / `connectWith()`, used by the action worker for its long-polls.
   */
  constructor(channel: ClientChannel, options: FloClientOptions = {}, fork?: () => FloClient) {
    const namespace = options.namespace ?? 'default';
    if (typeof namespace !== 'string' || namespace.length === 0) {
      throw new InvalidArgumentError('namespace must be a non-empty string');
    }
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new InvalidArgumentError(`timeoutMs must be a positive number, got ${options.timeoutMs}`);
    }
    this.channel = channel;
    this.namespace = namespace;
    this.codec = options.codec ?? jsonCodec;
    this.state$ = channel.state$;
    this.core = createClientCore({
      channel,
      codec: this.codec,
      namespace,
      timeoutMs: options.timeoutMs,
      settles: new SettleCoalescer({
        ...(options.scheduler ? { scheduler: options.scheduler } : {}),
        resend: resendAfterReconnect(channel, options.scheduler),
      }),
      ...(fork
        ? {
            fork: () => {
              if (this.closing) throw new ClientClosedError('flo: the client is closed');
              return fork();
            },
          }
        : {}),
    });
    this.kv = new KvApi(this.core);
    this.queue = new QueueApi(this.core);
    this.stream = new StreamApi(this.core);
    this.actions = new ActionsApi(this.core);
    this.workflow = new WorkflowApi(this.core);
  }

  /** Opens the connection now instead of on first use. Resolves once connected. */
  async connect(): Promise<void> {
    await this.channel.connect?.();
  }

  /**
   * Sends the settles (acks, nacks, touches) still waiting for the end of the tick, waits for the
   * settle requests in flight, then closes the connection (which ends every read with
   * `ClientClosedError`). Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.core.settles.flush();
      await this.channel.close?.();
    })();
    return this.closing;
  }

  /** @internal The namespace of a call: its own `namespace` option, else the client's. */
  ns(opts?: NamespaceOption): string {
    return this.core.ns(opts);
  }
}
