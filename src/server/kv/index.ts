/** The KV subsystem of the embedded server: the handlers (`handlers.ts`) over a `KvStore` (`store.ts`). */
export * from './handlers.js';
export { KvStore, KvMessages } from './store.js';
