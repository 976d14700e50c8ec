import type { Observable } from 'rxjs';

/** Options of a negative acknowledgement. */
export interface NackOptions {
  /** Send the item straight to the dead-letter queue (queues). Default false. */
  readonly toDlq?: boolean;
  /** Redeliver no sooner than this many ms from now (stream groups). Default: at once. */
  readonly delayMs?: number;
}

/** Options of a lease extension. */
export interface TouchOptions {
  /** New lease length from now, in ms; default: the length the item was leased with. */
  readonly extendMs?: number;
}

/**
 * How a subsystem settles the items it leases, by opaque id (a queue's `bigint` seqs, a group's
 * `StreamId`s, ...). Each method is one request for all the ids (cold; emits or not, then
 * completes on success, errors on failure). The coalescer calls these with the ids of one tick.
 */
export interface Settler<Id> {
  ack(ids: readonly Id[]): Observable<unknown>;
  nack(ids: readonly Id[], options: NackOptions): Observable<unknown>;
  touch(ids: readonly Id[], options: TouchOptions): Observable<unknown>;
  /** The most ids one request may carry (default unlimited; 1 for per-item protocols). */
  readonly maxBatch?: number;
}

export type SettleOp = 'ack' | 'nack' | 'touch';
