/**
 * The demo's domain: order events, the follow-up tasks they cause, the per-customer projection they
 * fold into, and the expectation of the whole run, computed in memory from the same deterministic
 * generator the producer uses (so the demo can verify what the pipeline wrote to the server).
 */

/** One event of the `orders` stream. */
export interface OrderEvent {
  readonly orderId: number;
  readonly customer: string;
  /** Order total in cents. */
  readonly cents: number;
  readonly items: number;
}

/** A follow-up task, enqueued by the projector for the task worker. */
export interface OrderTask {
  /** `<kind>:<orderId>`: also the queue's dedup key, so a redelivered event enqueues nothing twice. */
  readonly id: string;
  readonly kind: 'receipt' | 'fraud-check';
  readonly orderId: number;
  readonly customer: string;
}

/** The per-customer document the projector maintains with CAS (`customers/<id>/profile`). */
export interface CustomerProfile {
  readonly customer: string;
  readonly orders: number;
  readonly cents: number;
  readonly largestOrder: { readonly orderId: number; readonly cents: number } | null;
}

export const CUSTOMERS = 40;
/** Orders at or above this total also get a fraud check (priority 0: dequeued before receipts). */
export const FRAUD_CHECK_CENTS = 40_000;
/** Deliveries of a failing task before `settle({ toDlqAfter })` dead-letters it. */
export const MAX_DELIVERIES = 3;

/** Receipts of these orders always fail ("mailbox rejected"): they end in the DLQ. */
export const isPoison = (task: OrderTask): boolean => task.kind === 'receipt' && task.orderId % 97 === 0;
/** Tasks of these orders fail on their first delivery only ("SMTP timeout"): retried, then done. */
export const isFlaky = (task: OrderTask): boolean => !isPoison(task) && task.orderId % 13 === 0;

/** mulberry32: a tiny seeded PRNG, so every run (and its expectation) is the same. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const customerId = (n: number): string => `cust-${String(n).padStart(3, '0')}`;

/** The `count` order events of a run, orderIds 1..count. */
export function orderEvents(count: number, seed = 42): OrderEvent[] {
  const rnd = prng(seed);
  const events: OrderEvent[] = [];
  for (let orderId = 1; orderId <= count; orderId++) {
    const customer = customerId(1 + Math.floor(rnd() * CUSTOMERS));
    const items = 1 + Math.floor(rnd() * 5);
    const cents = 500 + Math.floor(rnd() * 49_500);
    events.push({ orderId, customer, cents, items });
  }
  return events;
}

/** What an event asks the worker to do. */
export function tasksFor(event: OrderEvent): OrderTask[] {
  const tasks: OrderTask[] = [{ id: `receipt:${event.orderId}`, kind: 'receipt', orderId: event.orderId, customer: event.customer }];
  if (event.cents >= FRAUD_CHECK_CENTS) {
    tasks.push({ id: `fraud-check:${event.orderId}`, kind: 'fraud-check', orderId: event.orderId, customer: event.customer });
  }
  return tasks;
}

/** Folds one event into a customer's profile (the projection; order-independent). */
export function foldProfile(prev: CustomerProfile | null, event: OrderEvent): CustomerProfile {
  const base: CustomerProfile = prev ?? { customer: event.customer, orders: 0, cents: 0, largestOrder: null };
  const largest = base.largestOrder;
  const bigger =
    largest === null || event.cents > largest.cents || (event.cents === largest.cents && event.orderId < largest.orderId);
  return {
    customer: base.customer,
    orders: base.orders + 1,
    cents: base.cents + event.cents,
    largestOrder: bigger ? { orderId: event.orderId, cents: event.cents } : largest,
  };
}

/** The outcome the run must reach, computed without a server. */
export interface Expectation {
  readonly events: number;
  readonly profiles: ReadonlyMap<string, CustomerProfile>;
  readonly tasks: number;
  /** Tasks that succeed (possibly after a retry). */
  readonly tasksDone: number;
  /** Ids of the tasks that end in the DLQ. */
  readonly deadLettered: readonly string[];
  /** Failed deliveries: one per flaky task, `MAX_DELIVERIES` per poison task. */
  readonly failedDeliveries: number;
}

export function expectationOf(events: readonly OrderEvent[]): Expectation {
  const profiles = new Map<string, CustomerProfile>();
  let tasks = 0;
  let flaky = 0;
  const deadLettered: string[] = [];
  for (const event of events) {
    profiles.set(event.customer, foldProfile(profiles.get(event.customer) ?? null, event));
    for (const task of tasksFor(event)) {
      tasks++;
      if (isPoison(task)) deadLettered.push(task.id);
      else if (isFlaky(task)) flaky++;
    }
  }
  return {
    events: events.length,
    profiles,
    tasks,
    tasksDone: tasks - deadLettered.length,
    deadLettered,
    failedDeliveries: flaky + deadLettered.length * MAX_DELIVERIES,
  };
}

export const dollars = (cents: number): string =>
  `$${(cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
