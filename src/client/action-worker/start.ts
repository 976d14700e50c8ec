/**
 * `flo.actions.worker(...)` as the client loads it: checks the handlers and options when the
 * worker is subscribed (a bad option errors the subscription before anything is sent, as before),
 * then imports the run loop (`run.ts`, `task.ts`) and subscribes to it. A bundler splits that
 * `import()` into a chunk of its own, so an app that never starts a worker never loads it.
 *
 * Stays cold and cancellable: nothing loads before subscription, and unsubscribing while the
 * module loads sends nothing; once loaded, a worker starts synchronously on subscription, as it
 * did before the split. Reads: `options.ts` (checks), `run.ts` (on demand, `../on-demand.ts`).
 */
import { defer, type Observable } from 'rxjs';
import type { ClientCore } from '../core/context.js';
import { onDemand } from '../on-demand.js';
import { checkWorkerOptions, type ActionHandlers, type ActionWorkerOptions } from './options.js';
import type { WorkerEvent } from './run.js';

const loadRun = /* @__PURE__ */ onDemand(() => import('../on-demand-modules.js'));

/** `flo.actions.worker(...)`: see `ActionsApi.worker`. */
export function actionWorker(core: ClientCore, handlers: ActionHandlers, options: ActionWorkerOptions = {}): Observable<WorkerEvent> {
  return defer(() => {
    const checked = checkWorkerOptions(handlers, options);
    return loadRun(({ runWorker }) => runWorker(core, checked, options));
  });
}
