/** The queue subsystem of the embedded server: the handlers (`handlers.ts`) over a `QueueStore` (`store.ts`). */
export * from './handlers.js';
export { QueueStore, DEFAULT_QUEUE_STORE_CONFIG } from './store.js';
export type { QueueStoreConfig, QueueStats, QueueMessageState, QueueListItem, EnqueueOptions } from './store.js';
