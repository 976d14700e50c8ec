/**
 * The client-wide drain control, built on first use. Only the code that leases (queue and stream
 * calls, the action worker: all loaded on demand) registers with it, so a client that never leases
 * neither builds it nor has `drain.ts` in its start-up bundle. `FloClient.drain()` drains it if it
 * exists, and otherwise leaves the request in `core.drainRequested`, with which `drainOf` starts
 * the control it builds: a pipeline started after `flo.drain()` still completes at once.
 */
import type { ClientCore } from './context.js';
import { DrainControl } from './drain-control.js';
import { untilOf, type DrainOptions } from './drain.js';
import type { Leased } from './lease.js';
import type { LeasingSourceOptions } from './leasing-source.js';

/** The drain control of `core`'s client (`core.drain`), built at the first call. */
export function drainOf(core: ClientCore): DrainControl {
  let control = core.drain;
  if (control === undefined) {
    control = core.drain = new DrainControl();
    if (core.drainRequested !== undefined) void control.drain(core.drainRequested);
  }
  return control;
}

/** The drain-related options of a leasing source of `core`'s client, from a pipeline's own options. */
export function drainOptionsOf<T extends Leased>(core: ClientCore, name: string, opts: DrainOptions): Partial<LeasingSourceOptions<T>> {
  const until = untilOf(opts.until);
  return {
    drain: drainOf(core),
    name,
    emit: core.emit,
    ...(until !== undefined ? { until } : {}),
    ...(opts.drainTimeoutMs !== undefined ? { drainTimeoutMs: opts.drainTimeoutMs } : {}),
  };
}
