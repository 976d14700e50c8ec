/**
 * OpenTelemetry for flo-rx (the `flo-rx/otel` entry; `@opentelemetry/api` is an optional peer).
 * Owns `floOtel()`: one span per request (from the `flo-rx:request` TracingChannel), producer
 * spans for appends and enqueues whose W3C trace context travels in the record headers, and a
 * consumer span per delivered queue message or group record, linked to its producer's span and
 * ended when the item is settled. Attribute names follow OpenTelemetry's messaging and database
 * semantic conventions. Node only (diagnostics_channel).
 */
import { tracingChannel } from 'node:diagnostics_channel';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { REQUEST_CHANNEL, type RequestTraceContext } from '../connection/tracing.js';
import type { ClientTelemetry, DeliveredItem } from './telemetry.js';

/** Options of `floOtel()`. */
export interface FloOtelOptions {
  /** Where spans go. Default: the global tracer provider. */
  readonly tracerProvider?: TracerProvider;
  /** Also trace requests that are not messaging operations (kv, actions, workflows...). Default true. */
  readonly requestSpans?: boolean;
}

/** The OpenTelemetry integration: pass it as `connect(address, { telemetry })`; `disable()` stops it. */
export interface FloOtel extends ClientTelemetry {
  /** Stops creating spans (unsubscribes from the request channel). */
  disable(): void;
}

const PRODUCER_OPS = new Set(['stream_append', 'queue_enqueue', 'queue_batch_enqueue']);
const RECEIVE_OPS = new Set(['queue_dequeue', 'stream_group_read', 'stream_read']);
const SETTLE_OPS = new Set(['queue_complete', 'queue_fail', 'queue_touch', 'stream_group_ack', 'stream_group_nack', 'stream_group_touch']);

function requestAttributes(ctx: RequestTraceContext): Attributes {
  const attrs: Attributes = { 'flo.request_id': ctx.requestId, 'flo.opcode': ctx.opcode };
  const messaging = PRODUCER_OPS.has(ctx.operation) || RECEIVE_OPS.has(ctx.operation) || SETTLE_OPS.has(ctx.operation);
  if (messaging) {
    attrs['messaging.system'] = 'flo';
    attrs['messaging.operation.name'] = ctx.operation;
    attrs['messaging.operation.type'] = PRODUCER_OPS.has(ctx.operation) ? 'send' : RECEIVE_OPS.has(ctx.operation) ? 'receive' : 'settle';
    if (ctx.key !== undefined) attrs['messaging.destination.name'] = ctx.key;
    attrs['messaging.message.body.size'] = ctx.bytesOut;
  } else {
    attrs['db.system.name'] = 'flo';
    attrs['db.operation.name'] = ctx.operation;
    attrs['db.namespace'] = ctx.namespace;
  }
  attrs['flo.namespace'] = ctx.namespace;
  if (ctx.endpoint !== undefined) {
    const colon = ctx.endpoint.lastIndexOf(':');
    attrs['server.address'] = colon > 0 ? ctx.endpoint.slice(0, colon) : ctx.endpoint;
    if (colon > 0) attrs['server.port'] = Number(ctx.endpoint.slice(colon + 1));
  }
  return attrs;
}

function spanName(ctx: RequestTraceContext): string {
  if (PRODUCER_OPS.has(ctx.operation) && ctx.key !== undefined) return `send ${ctx.key}`;
  if (RECEIVE_OPS.has(ctx.operation) && ctx.key !== undefined) return `receive ${ctx.key}`;
  return ctx.key !== undefined && SETTLE_OPS.has(ctx.operation) ? `settle ${ctx.key}` : ctx.operation;
}

/**
 * Ends a consumer span when its item is settled (`flo.outcome: acked | nacked`). An item whose
 * pipeline ended before it was settled may still be settled by whoever holds it (e.g. after
 * `take(n)`), so its span waits one lease length more, then ends with `flo.outcome: unsettled`:
 * no span is left open.
 */
function endConsumerSpan(span: Span, item: DeliveredItem): void {
  let expiry: ReturnType<typeof setTimeout> | undefined;
  const onPipelineEnded = () => {
    if (item.lease.settled) return;
    expiry = setTimeout(() => {
      settled.unsubscribe();
      span.setAttribute('flo.outcome', 'unsettled');
      span.end();
    }, item.lease.leaseMs);
    (expiry as { unref?: () => void }).unref?.();
  };
  const settled = item.lease.settled$.subscribe((outcome) => {
    item.pipelineEnded.removeEventListener('abort', onPipelineEnded);
    if (expiry !== undefined) clearTimeout(expiry);
    span.setAttribute('flo.outcome', outcome);
    span.end();
  });
  if (item.lease.settled) return;
  if (item.pipelineEnded.aborted) onPipelineEnded();
  else item.pipelineEnded.addEventListener('abort', onPipelineEnded, { once: true });
}

/**
 * Starts the OpenTelemetry integration. Request spans cover every client in the process; header
 * injection and consumer spans need the returned object as the client's `telemetry` option.
 *
 * @example
 * import { floOtel } from 'flo-rx/otel';
 * const flo = connect('localhost:9000', { telemetry: floOtel() });
 */
export function floOtel(options: FloOtelOptions = {}): FloOtel {
  const tracer = (): Tracer => (options.tracerProvider ?? trace.getTracerProvider()).getTracer('flo-rx');
  const spans = new WeakMap<RequestTraceContext, Span>();
  /** The producer span an append's headers were injected from, handed to its request (same call stack). */
  let pendingProducer: { operation: string; destination: string; span: Span } | undefined;

  const channel = tracingChannel<unknown, RequestTraceContext & object>(REQUEST_CHANNEL);
  const handlers = {
    start(ctx: RequestTraceContext & object) {
      let span: Span | undefined;
      const pending = pendingProducer;
      if (pending !== undefined && pending.operation === ctx.operation && pending.destination === ctx.key) {
        pendingProducer = undefined;
        span = pending.span;
        span.setAttributes(requestAttributes(ctx));
      } else if (options.requestSpans !== false || PRODUCER_OPS.has(ctx.operation)) {
        const kind = PRODUCER_OPS.has(ctx.operation) ? SpanKind.PRODUCER : SpanKind.CLIENT;
        span = tracer().startSpan(spanName(ctx), { kind, attributes: requestAttributes(ctx) }, context.active());
      }
      if (span !== undefined) spans.set(ctx, span);
    },
    end() {},
    asyncStart() {},
    error(ctx: RequestTraceContext & object) {
      const span = spans.get(ctx);
      if (span === undefined || ctx.error === undefined) return;
      span.recordException(ctx.error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error.message });
      span.setAttribute('error.type', ctx.error.name);
    },
    asyncEnd(ctx: RequestTraceContext & object) {
      const span = spans.get(ctx);
      if (span === undefined) return;
      spans.delete(ctx);
      if (ctx.status !== undefined) span.setAttribute('flo.status', ctx.status);
      if (ctx.bytesIn !== undefined) span.setAttribute('flo.bytes_in', ctx.bytesIn);
      if (ctx.cancelled) span.setAttribute('flo.cancelled', true);
      span.end();
    },
  };
  channel.subscribe(handlers);

  return {
    injectHeaders(operation, destination, headers) {
      // The producer span starts here so that the headers carry its own context.
      const span = tracer().startSpan(`send ${destination}`, {
        kind: SpanKind.PRODUCER,
        attributes: { 'messaging.system': 'flo', 'messaging.operation.type': 'send', 'messaging.destination.name': destination },
      });
      pendingProducer = { operation, destination, span };
      const out = { ...headers };
      propagation.inject(trace.setSpan(context.active(), span), out);
      return out;
    },
    onDelivered(item: DeliveredItem) {
      const links: Link[] = [];
      if (item.headers !== undefined) {
        const producer = trace.getSpanContext(propagation.extract(context.active(), item.headers));
        if (producer !== undefined && trace.isSpanContextValid(producer)) links.push({ context: producer });
      }
      const attributes: Attributes = {
        'messaging.system': 'flo',
        'messaging.operation.type': 'process',
        'messaging.destination.name': item.destination,
        'flo.namespace': item.namespace,
        'flo.system': item.system,
      };
      if (item.group !== undefined) attributes['messaging.consumer.group.name'] = item.group;
      const span = tracer().startSpan(`process ${item.destination}`, { kind: SpanKind.CONSUMER, attributes, links });
      endConsumerSpan(span, item);
    },
    disable() {
      channel.unsubscribe(handlers);
    },
  };
}
