/** The stream subsystem of the embedded server: the handlers (`handlers.ts`) over a `StreamStore` (`store.ts`). */
export * from './handlers.js';
export { StreamStore, partitionFor } from './store.js';
export type { StoredRecord, GroupSnapshot, TrimBounds, Retention, GroupSettings, ReadQuery } from './store.js';
