// flo-rx/otel with the OpenTelemetry SDK's in-memory exporter, over real sockets: request spans,
// and producer → consumer links through stream record headers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { firstValueFrom, take, lastValueFrom, toArray } from 'rxjs';
import { context, propagation, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { floOtel, type FloOtel } from '../../src/otel.js';
import { settle } from '../../src/node.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');
let otel: FloOtel;
let env: Embedded | undefined;

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  otel = floOtel({ tracerProvider: provider });
});
afterAll(() => {
  otel.disable();
  context.disable();
  propagation.disable();
});
afterEach(async () => {
  await env?.close();
  env = undefined;
  exporter.reset();
});

describe('flo-rx/otel', () => {
  it('one span per request, child of the active span, with database attributes and errors', async () => {
    env = await startEmbedded({ client: { telemetry: otel } });
    await env.client.connect();
    const parent = tracer.startSpan('parent');
    await context.with(trace.setSpan(context.active(), parent), () => firstValueFrom(env!.client.kv.put('k', 'v')));
    await context.with(trace.setSpan(context.active(), parent), () => firstValueFrom(env!.client.kv.get('missing')));
    parent.end();
    const spans = exporter.getFinishedSpans();
    const put = spans.find((s) => s.name === 'kv_put')!;
    expect(put).toBeDefined();
    expect(put.kind).toBe(SpanKind.CLIENT);
    expect(put.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(put.attributes).toMatchObject({
      'db.system.name': 'flo',
      'db.operation.name': 'kv_put',
      'db.namespace': 'test',
      'server.address': '127.0.0.1',
      'server.port': env.server.port,
      'flo.status': 0,
    });
    const get = spans.find((s) => s.name === 'kv_get')!;
    expect(get.status.code).toBe(SpanStatusCode.ERROR);
    expect(get.attributes['error.type']).toBe('NotFoundError');
  });

  it('links a group consumer span to the producer span through the record headers', async () => {
    env = await startEmbedded({ client: { telemetry: otel } });
    const flo = env.client;
    const parent = tracer.startSpan('checkout');
    await context.with(trace.setSpan(context.active(), parent), () => firstValueFrom(flo.stream.append('orders', 'o1')));
    parent.end();
    const records = await lastValueFrom(
      flo.stream.group('orders', 'billing', { consumer: 'w1', blockMs: 1000 }).pipe(
        take(1),
        settle((r) => r.headers),
        toArray(),
      ),
    );
    expect(records[0].result?.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    // The consumer span ends when the record is settled (acked).
    for (let i = 0; i < 50 && !exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER); i++) await new Promise((r) => setTimeout(r, 10));
    const spans = exporter.getFinishedSpans();
    const producer = spans.find((s) => s.kind === SpanKind.PRODUCER)!;
    const consumer = spans.find((s) => s.kind === SpanKind.CONSUMER)!;
    expect(producer.name).toBe('send orders');
    expect(producer.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(producer.attributes).toMatchObject({ 'messaging.system': 'flo', 'messaging.operation.type': 'send', 'messaging.destination.name': 'orders' });
    expect(consumer.name).toBe('process orders');
    expect(consumer.attributes).toMatchObject({ 'messaging.destination.name': 'orders', 'messaging.consumer.group.name': 'billing', 'flo.outcome': 'acked' });
    expect(consumer.links).toHaveLength(1);
    expect(consumer.links[0].context.traceId).toBe(producer.spanContext().traceId);
    expect(consumer.links[0].context.spanId).toBe(producer.spanContext().spanId);
    // One producer span per append (the request span is the same span, not a second one).
    expect(spans.filter((s) => s.name === 'send orders')).toHaveLength(1);
  });

  it('a queue consumer span has no producer link (queue messages carry no headers) and ends when the message is acked', async () => {
    env = await startEmbedded({ client: { telemetry: otel } });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('jobs', 'j1'));
    await lastValueFrom(flo.queue.messages('jobs', { blockMs: 1000 }).pipe(take(1), settle(() => 'ok')));
    const consumer = await finishedSpan((s) => s.kind === SpanKind.CONSUMER);
    expect(consumer.name).toBe('process jobs');
    expect(consumer.attributes).toMatchObject({ 'flo.system': 'queue', 'messaging.destination.name': 'jobs', 'flo.outcome': 'acked' });
    expect(consumer.links).toEqual([]);
  });

  it('a consumer span whose item is never settled ends after its pipeline was unsubscribed (flo.outcome unsettled)', async () => {
    env = await startEmbedded({ client: { telemetry: otel } });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('jobs', 'j1'));
    // The message is taken and dropped: nobody settles it.
    const m = await firstValueFrom(flo.queue.messages('jobs', { blockMs: 1000, visibilityTimeoutMs: 100 }));
    expect(m.lease.settled).toBe(false);
    const consumer = await finishedSpan((s) => s.kind === SpanKind.CONSUMER);
    expect(consumer.attributes).toMatchObject({ 'messaging.destination.name': 'jobs', 'flo.outcome': 'unsettled' });
    expect(m.lease.settled).toBe(false);
  });

  it('an item settled after its pipeline ended (take, then ack) still ends its span as acked', async () => {
    env = await startEmbedded({ client: { telemetry: otel } });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('jobs', 'j1'));
    const m = await firstValueFrom(flo.queue.messages('jobs', { blockMs: 1000, visibilityTimeoutMs: 60_000 }));
    expect(exporter.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER)).toBe(false);
    await firstValueFrom(m.lease.ack());
    const consumer = await finishedSpan((s) => s.kind === SpanKind.CONSUMER);
    expect(consumer.attributes['flo.outcome']).toBe('acked');
  });

  it('a drained pipeline leaves no consumer span open: a handler past the drain deadline ends its span as nacked', async () => {
    env = await startEmbedded({ client: { telemetry: otel } });
    const flo = env.client;
    await firstValueFrom(flo.queue.enqueue('jobs', 'j1'));
    const stop = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const done = lastValueFrom(
      flo.queue.messages('jobs', { blockMs: 1000, until: stop.signal, drainTimeoutMs: 30 }).pipe(
        settle((_m, { signal }) => {
          started();
          return new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
        }),
      ),
    );
    await running;
    stop.abort();
    const last = await done;
    expect(last.outcome).toBe('nacked');
    const consumer = await finishedSpan((s) => s.kind === SpanKind.CONSUMER);
    expect(consumer.attributes['flo.outcome']).toBe('nacked');
  });
});

/** The first finished span matching `pred`, waiting (bounded) for it. */
async function finishedSpan(pred: (s: ReturnType<InMemorySpanExporter['getFinishedSpans']>[number]) => boolean) {
  for (let i = 0; i < 200; i++) {
    const span = exporter.getFinishedSpans().find(pred);
    if (span !== undefined) return span;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('no such span finished');
}
