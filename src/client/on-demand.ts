/**
 * Loads a module on first use, for API methods whose code a bundler should split off: an app that
 * never calls them never loads it. `onDemand(() => import('./x.js'))` gives a function that wraps
 * a use of the module in a cold Observable: the first subscription imports it (a bundler's lazy
 * chunk), later ones use the loaded module synchronously, as a static import would. Unsubscribing
 * while it loads sends nothing. A failed import (a chunk that could not be fetched) errors that
 * subscription only; the next one tries again.
 *
 * Every on-demand module is reached through `on-demand-modules.ts` (one dynamic import for all of
 * them, see there why): `onDemand(() => import('./on-demand-modules.js'))`, whose module has every
 * on-demand export by name (`m.jsonGet`, `m.QueueCalls`).
 */
import { defer, from, switchMap, type Observable } from 'rxjs';

/**
 * `use(module)` inside a cold Observable; the module is imported at the first subscription.
 * `loaded` is the module once imported (for a hot path that skips the Observable around it then).
 */
export interface OnDemand<M> {
  <T>(use: (module: M) => Observable<T>): Observable<T>;
  readonly loaded: M | undefined;
}

export function onDemand<M>(load: () => Promise<M>): OnDemand<M> {
  const state: { loaded: M | undefined } = { loaded: undefined };
  const run = <T>(use: (module: M) => Observable<T>): Observable<T> =>
    defer(() => {
      const module = state.loaded;
      return module !== undefined ? use(module) : from(load()).pipe(switchMap((m) => use((state.loaded = m))));
    });
  return Object.defineProperty(run, 'loaded', { get: () => state.loaded }) as OnDemand<M>;
}
