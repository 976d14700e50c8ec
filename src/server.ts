// The embedded Flo-compatible server (`flo-rx/server`). Node only.
export { startServer, type FloServer, type ServerStats, type StartServerOptions } from './server/server.js';
export { ManualClock, systemClock, type Clock, type TimerHandle } from './server/clock.js';
export { ParkingLimits, Waiters } from './server/waiters.js';
export { ok, badRequest, notFound, conflict, unauthorized, overloaded } from './server/reply.js';
export type { Handler, Reply, ReplyProfile, RequestContext, ServerEnv, Subsystem } from './server/types.js';
