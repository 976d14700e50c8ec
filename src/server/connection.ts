/**
 * One client connection, whatever carries it (TCP or WebSocket): frames in, replies out.
 *
 * - Requests are dispatched in arrival order and answered in completion order: a parked request
 *   never delays the ones behind it. Replies produced in the same turn of the event loop go out in
 *   one write.
 * - A frame that cannot be parsed (bad header, CRC mismatch, inconsistent sections) gets Flo's
 *   reject frame (id 0, status 3, `Invalid request`) after the replies already due, then the
 *   connection closes (flushing first). Nothing behind the bad frame is read.
 * - Every request's `signal` aborts when the connection closes or the server stops; replies of
 *   requests still parked then are dropped. When the peer half-closes (TCP FIN), replies already
 *   due are written before the connection closes.
 * - Memory stays bounded: reading pauses while the peer is slow to take our replies (write buffer
 *   above the high-water mark) and resumes on drain; a connection may hold at most `maxInFlight`
 *   parked requests: beyond that a request still runs (so a wake sent on the same connection still
 *   works), but one that would park has its signal aborted at once and, unless it still answers OK,
 *   is answered OVERLOADED.
 */
import { setMaxListeners } from 'node:events';
import {
  decodeRequestBody,
  encodeRejectFrame,
  encodeResponseFrame,
  Status,
  utf8,
  type DecodedRequest,
  type RequestBody,
} from '../protocol/index.js';
import type { Answer, Dispatcher } from './dispatcher.js';
import type { CommitGate } from './storage/disk-storage.js';
import { FrameReader } from './framing.js';
import type { FrameTransport } from './transport.js';

export interface ConnectionOptions {
  readonly id: number;
  readonly dispatcher: Dispatcher;
  readonly maxFramePayload?: number;
  /** Pause reading while this many reply bytes wait to be written. Default 1 MiB. */
  readonly highWaterMark?: number;
  /** Unanswered requests allowed per connection. Default 4096. */
  readonly maxInFlight?: number;
  readonly log?: (line: string) => void;
  /** With a data directory: replies wait until the changes made before them are committed. */
  readonly commitGate?: CommitGate;
  /** Called once when the connection is gone. */
  readonly onClose?: (conn: ServerConnection) => void;
}

type State = 'open' | 'closing' | 'closed';

const DEFAULT_HIGH_WATER = 1024 * 1024;
const DEFAULT_MAX_IN_FLIGHT = 4096;

export class ServerConnection {
  readonly id: number;
  private state: State = 'open';
  private readonly abort = new AbortController();
  private readonly reader: FrameReader;
  private readonly dispatcher: Dispatcher;
  private readonly highWaterMark: number;
  private readonly maxInFlight: number;
  private readonly log: (line: string) => void;
  private outbox: Uint8Array[] = [];
  /** Replies waiting until the changes before them are durable (servers with a data directory). */
  private held = 0;
  private releaseScheduled = false;
  private endPending = false;
  private flushScheduled = false;
  private inFlight = 0;
  private paused = false;
  private resolveClosed!: () => void;
  /** Settles once the transport is gone. */
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    readonly transport: FrameTransport,
    private readonly options: ConnectionOptions,
  ) {
    this.id = options.id;
    this.dispatcher = options.dispatcher;
    this.reader = new FrameReader(options.maxFramePayload);
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER;
    this.maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.log = options.log ?? (() => {});
    // Every parked request listens on this one signal.
    setMaxListeners(0, this.abort.signal);
  }

  get protocol() {
    return this.transport.protocol;
  }

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Requests dispatched and not yet answered. */
  get pending(): number {
    return this.inFlight;
  }

  /** Aborted when the connection closes or the server stops. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Wires the transport up; `initial` holds bytes already read while sniffing the protocol. */
  start(initial?: Uint8Array): void {
    this.transport.start({
      data: (bytes) => this.safeReceive(bytes),
      drain: () => this.onDrain(),
      end: () => this.onPeerEnd(),
      close: () => this.onTransportClosed(),
    });
    if (initial && initial.length > 0) this.safeReceive(initial);
    if (this.state === 'open' && !this.paused) this.transport.resumeReading();
  }

  /** Feeds bytes from the peer. */
  receive(bytes: Uint8Array): void {
    if (this.state !== 'open') return;
    const { frames, error } = this.reader.push(bytes);
    for (const frame of frames) {
      if (!this.handleFrame(frame)) return;
    }
    if (error) this.reject(error.message);
  }

  private safeReceive(bytes: Uint8Array): void {
    try {
      this.receive(bytes);
    } catch (err) {
      // A bug here must cost one connection, never the server.
      this.log(`conn #${this.id} ${this.protocol} ${this.remoteAddress}: internal error: ${(err as Error)?.stack ?? String(err)}`);
      this.state = 'closing';
      this.abort.abort(err);
      this.transport.destroy();
    }
  }

  /** Server shutdown: aborts parked requests and closes the transport. */
  shutdown(): void {
    if (this.state === 'closed') return;
    this.abort.abort(new Error('server stopping'));
    if (this.state === 'open') {
      this.state = 'closing';
      this.flush();
      this.endAfterHeld('shutdown');
    }
  }

  /** Returns false when the frame was rejected (and the connection is closing). */
  private handleFrame(frame: DecodedRequest): boolean {
    if (!frame.checksumOk) {
      this.reject(`checksum mismatch on request ${frame.requestId}`);
      return false;
    }
    let body: RequestBody;
    try {
      // A private copy: handlers may keep views into the body without pinning the read buffer.
      body = decodeRequestBody(frame.payload.slice());
    } catch (err) {
      this.reject(`request ${frame.requestId}: ${(err as Error).message}`);
      return false;
    }
    // At the in-flight limit a request still runs, but may not park: it gets its own signal, aborted
    // as soon as it turns out to be asynchronous. An OK answer (work done, items leased) still goes
    // out; a failure (typically the cut-short wait) is reported as OVERLOADED so the client backs off.
    const overLimit = this.inFlight >= this.maxInFlight ? new AbortController() : undefined;
    const answer = this.dispatcher.dispatch({
      requestId: frame.requestId,
      opcode: frame.opcode,
      body,
      signal: overLimit?.signal ?? this.abort.signal,
      connectionId: this.id,
    });
    if (answer instanceof Promise) {
      this.inFlight++;
      overLimit?.abort(new Error('too many requests in flight'));
      void answer.then((a) => {
        this.inFlight--;
        // A connection that closed meanwhile drops the reply.
        if (this.state !== 'open') return;
        this.queue(frame.requestId, overLimit && a.status !== Status.OK ? this.overloaded() : a);
      });
    } else {
      this.queue(frame.requestId, answer);
    }
    return true;
  }

  private overloaded(): Answer {
    return {
      status: Status.Overloaded,
      payload: utf8(`too many requests in flight on this connection (max ${this.maxInFlight})`),
    };
  }

  private queue(requestId: bigint, answer: Answer): void {
    const gate = this.options.commitGate;
    if (gate?.pending) {
      // Nothing leaves before the changes it may reveal are in the log (group commit).
      this.held++;
      gate.afterCommit((error) => this.release(requestId, error ? { status: Status.Unavailable, payload: utf8(error.message) } : answer));
      return;
    }
    this.outbox.push(encodeResponseFrame(requestId, answer.status, answer.payload));
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        if (this.state === 'open') this.flush();
      });
    }
  }

  /** Ends the transport once replies waiting for a commit are out. */
  private endAfterHeld(reason: 'shutdown'): void {
    if (this.held === 0) this.transport.end(reason);
    else this.endPending = true;
  }

  /** A held reply is durable (or its commit failed: then the error goes instead); flushed with the others released now. */
  private release(requestId: bigint, answer: Answer): void {
    this.held--;
    if (this.state === 'closed' || (this.state === 'closing' && !this.endPending)) return;
    this.outbox.push(encodeResponseFrame(requestId, answer.status, answer.payload));
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    queueMicrotask(() => {
      this.releaseScheduled = false;
      if (this.state === 'closed') return;
      this.flush();
      if (this.endPending && this.held === 0) {
        this.endPending = false;
        this.transport.end('shutdown');
      }
    });
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const chunks = this.outbox;
    this.outbox = [];
    this.transport.send(chunks);
    if (!this.paused && this.transport.bufferedBytes > this.highWaterMark) {
      this.paused = true;
      this.transport.pauseReading();
    }
  }

  private onDrain(): void {
    if (this.paused && this.state === 'open' && this.transport.bufferedBytes <= this.highWaterMark) {
      this.paused = false;
      this.transport.resumeReading();
    }
  }

  private reject(reason: string): void {
    if (this.state !== 'open') return;
    this.log(`conn #${this.id} ${this.protocol} ${this.remoteAddress}: rejected frame (${reason}), closing`);
    this.state = 'closing';
    this.abort.abort(new Error('connection closing'));
    this.outbox.push(encodeRejectFrame());
    this.flush();
    this.transport.end('reject');
  }

  /**
   * The peer sent everything it will send. Replies already due go out; requests still parked are
   * abandoned (as Flo closes a connection on EOF); then the connection closes.
   */
  private onPeerEnd(): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.abort.abort(new Error('peer closed'));
    this.flush();
    this.endAfterHeld('shutdown');
  }

  private onTransportClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.outbox = [];
    this.abort.abort(new Error('connection closed'));
    this.options.onClose?.(this);
    this.resolveClosed();
  }
}
