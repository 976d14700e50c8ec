/**
 * `DirectChannel`: a `RequestChannel` over one transport (WebSocket by default) that only sends
 * requests and routes their replies, for the smallest browser bundles (`openFloDirect` in
 * `flo-rx/modular`). What it leaves out of `Connection`: reconnecting in place (a lost socket
 * fails the requests in flight with `ConnectionLostError`, and the next request opens a new
 * one), several endpoints, the outbox that batches a tick's frames into one write, the
 * diagnostics-channel tracing hooks, late-reply hand-back and the connection events.
 *
 * What it keeps: one multiplexed socket opened on the first request, a deadline per request
 * (the timeout plus a long-poll's block time), cold and cancellable requests, typed errors
 * (`TimeoutError`, `ConnectionError`, `ConnectionLostError`, `ClientClosedError`, `ProtocolError`),
 * the frame checks of the full connection (CRC, size limit).
 */
import { BehaviorSubject, EMPTY, Observable, distinctUntilChanged, map } from 'rxjs';
import { ResponseFrameDecoder } from '../protocol/decoder.js';
import { ClientClosedError, ConnectionError, ConnectionLostError, ProtocolError, TimeoutError } from '../protocol/errors.js';
import { encodeRequest, type ResponseFrame } from '../protocol/frame.js';
import type { ConnectionInfo, ConnectionState, RequestChannel, RequestSpec, Transport, TransportFactory } from './types.js';

/** Options of `DirectChannel`. */
export interface DirectChannelOptions {
  /** The server's address, handed to `transport`. */
  readonly endpoint: string;
  /** Opens the socket (`webSocketTransport()`, or `tcpTransport()` from `flo-rx/node`). */
  readonly transport: TransportFactory;
  /** Per-request timeout in ms when a request gives none; a long-poll's deadline adds its block time. Default 5000. */
  readonly timeoutMs?: number;
  /** Largest reply payload accepted, in bytes. Default 100 MiB. */
  readonly maxPayload?: number;
}

/** A request waiting for its reply. */
interface Waiting {
  reply(frame: ResponseFrame & { readonly checksumOk: boolean }): void;
  fail(error: Error): void;
}

export class DirectChannel implements RequestChannel {
  private readonly info_: BehaviorSubject<ConnectionInfo>;
  private readonly waiting_ = new Map<bigint, Waiting>();
  private nextId_ = 1n;
  /** The open (or opening) socket, until it closes. */
  private socket_: Promise<Transport> | undefined;
  private closed_ = false;
  private failedAttempts_ = 0;

  /** The state with its endpoint and last error, replayed, then every change. */
  readonly info$: Observable<ConnectionInfo>;
  /** `idle` until the first request, `connecting`, `connected`; `idle` again after a lost socket; `closed` after `close()`. */
  readonly state$: Observable<ConnectionState>;
  /** Never emits: a lost socket is not re-established in place (the next request opens a new one). */
  readonly reconnected$: Observable<void> = EMPTY;
  private readonly options_: DirectChannelOptions;

  constructor(options_: DirectChannelOptions) {
    this.options_ = options_;
    this.info_ = new BehaviorSubject<ConnectionInfo>({ state: 'idle', endpoint: undefined, failedAttempts: 0, lastError: undefined });
    this.info$ = this.info_.asObservable();
    this.state$ = this.info$.pipe(map((i) => i.state), distinctUntilChanged());
  }

  request(spec: RequestSpec): Observable<ResponseFrame> {
    return new Observable<ResponseFrame>((subscriber) => {
      if (this.closed_) {
        subscriber.error(new ClientClosedError('flo: the client is closed'));
        return undefined;
      }
      const id = this.nextId_++;
      const timeoutMs = (spec.timeoutMs ?? this.options_.timeoutMs ?? 5000) + (spec.blockMs ?? 0);
      const done = () => {
        clearTimeout(timer);
        this.waiting_.delete(id);
      };
      const timer = setTimeout(() => {
        done();
        subscriber.error(new TimeoutError(`flo: request ${id} (opcode 0x${spec.opcode.toString(16)}) timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting_.set(id, {
        reply: (frame) => {
          done();
          if (!frame.checksumOk) subscriber.error(new ProtocolError(`flo: reply to request ${id} failed its checksum`));
          else {
            subscriber.next(frame);
            subscriber.complete();
          }
        },
        fail: (error) => {
          done();
          subscriber.error(error);
        },
      });
      this.open_().then(
        (socket) => {
          if (this.waiting_.has(id)) socket.send(encodeRequest(id, spec.opcode, spec.namespace, spec.body));
        },
        (error: Error) => this.waiting_.get(id)?.fail(error),
      );
      return done;
    });
  }

  /** Opens the socket now (requests open it anyway); rejects with `ConnectionError` if it cannot. */
  async connect(): Promise<void> {
    if (this.closed_) throw new ClientClosedError('flo: the client is closed');
    await this.open_();
  }

  /** Fails the requests in flight with `ClientClosedError` and closes the socket. Idempotent. */
  async close(): Promise<void> {
    if (this.closed_) return;
    this.closed_ = true;
    const socket = this.socket_;
    this.socket_ = undefined;
    this.failAll_(new ClientClosedError('flo: the client is closed'));
    this.set_('closed');
    (await socket?.catch(() => undefined))?.close();
  }

  private open_(): Promise<Transport> {
    if (this.socket_) return this.socket_;
    const endpoint = this.options_.endpoint;
    const decoder = new ResponseFrameDecoder({ maxPayload: this.options_.maxPayload });
    this.set_('connecting');
    const opening: Promise<Transport> = this.options_
      .transport(endpoint, {
        onData: (chunk) => {
          try {
            for (const frame of decoder.push(chunk)) this.waiting_.get(frame.requestId)?.reply(frame);
          } catch (error) {
            // Bytes that are not frames: nothing after them can be trusted.
            this.lost_(opening, error as Error);
            void opening.then((socket) => socket.close());
          }
        },
        onClose: (error) => this.lost_(opening, error),
      })
      .then(
        (socket) => {
          if (this.closed_) socket.close();
          else {
            this.failedAttempts_ = 0;
            this.set_('connected');
          }
          return socket;
        },
        (cause: unknown) => {
          if (this.socket_ === opening) this.socket_ = undefined;
          const error = new ConnectionError(`flo: cannot connect to ${endpoint}`, { cause, endpoint });
          this.failedAttempts_++;
          if (!this.closed_) this.set_('idle', error);
          throw error;
        },
      );
    this.socket_ = opening;
    return opening;
  }

  /** The socket `which` is gone: its requests fail, and the next request opens a new one. */
  private lost_(which: Promise<Transport>, cause: Error | undefined): void {
    if (this.socket_ !== which) return;
    this.socket_ = undefined;
    const error =
      cause instanceof ProtocolError
        ? cause
        : new ConnectionLostError('flo: the connection was lost', { cause, endpoint: this.options_.endpoint });
    this.failAll_(error);
    this.set_('idle', error);
  }

  private failAll_(error: Error): void {
    for (const waiting of [...this.waiting_.values()]) waiting.fail(error);
  }

  private set_(state: ConnectionState, lastError?: Error): void {
    const prev = this.info_.value;
    this.info_.next({
      state,
      endpoint: this.options_.endpoint,
      failedAttempts: this.failedAttempts_,
      lastError: lastError ?? prev.lastError,
    });
  }
}
