// The embedded Flo-compatible server (`flo-rx/server`). Node only.
export {
  startServer,
  IN_MEMORY_NOTE,
  type FloServer,
  type ServerLimitOptions,
  type ServerSecurityOptions,
  type ServerStats,
  type StartServerOptions,
} from './server/server.js';
export {
  StorageStartError,
  StorageWriteError,
  isStorageStartError,
  isStorageWriteError,
  type FsyncMode,
  type PersistedTable,
  type Persistence,
} from './server/storage/index.js';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './server/clock.js';
export { ParkingLimits, Waiters } from './server/waiters.js';
export { ok, badRequest, notFound, conflict, unauthorized, overloaded } from './server/reply.js';
export type { Handler, Reply, ReplyProfile, RequestContext, ServerEnv, Subsystem } from './server/types.js';
export { SERVER_REQUEST_CHANNEL, type ServerRequestTraceContext } from './server/dispatcher.js';
export type { JwksDocument } from './server/auth/jwt.js';
