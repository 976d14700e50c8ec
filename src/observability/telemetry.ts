/**
 * The `telemetry` option: hooks a tracing integration (such as `flo-rx/otel`) plugs into the
 * client where the diagnostics channels cannot reach: record headers before an append is encoded,
 * and each leased item as it is delivered. Universal and dependency-free; the client calls these
 * only when the option is set.
 */
import type { Leased } from '../client/core/lease.js';

/** What is known of an item handed to a consumer. */
export interface DeliveredItem extends Leased {
  /** `'queue'` or `'stream'`. */
  readonly system: 'queue' | 'stream';
  /** The queue or stream name. */
  readonly destination: string;
  readonly namespace: string;
  /** The consumer group, for stream group deliveries. */
  readonly group?: string;
  /**
   * The record's headers (stream records), where a producer's trace context travels. Queue
   * messages carry no headers in Flo's protocol, so a queue consumer cannot link to its producer.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Aborts when the pipeline that delivered the item ends (unsubscribed, completed, errored); an
   * item still unsettled then may never be settled (its lease runs out on the server).
   */
  readonly pipelineEnded: AbortSignal;
}

/** Hooks of a tracing integration. */
export interface ClientTelemetry {
  /**
   * Called as an append is built: returns the headers to send (typically the given ones plus a
   * W3C `traceparent`), so that the consumer's span can link to the producer's.
   */
  injectHeaders?(operation: string, destination: string, headers: Record<string, string>): Record<string, string>;
  /** Called for each leased item as it is emitted to the consumer. */
  onDelivered?(item: DeliveredItem): void;
}
