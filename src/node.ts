// Node entry point (`flo-rx/node`): the TCP transport, and (for now) the multiplexed connection.
export { tcpTransport, parseEndpoint, DEFAULT_PORT } from './connection/tcp.js';
export { Connection } from './connection/connection.js';
export type { ConnectionOptions, ReconnectOptions, FrameDirection } from './connection/connection.js';
export type {
  ConnectionState,
  RequestChannel,
  RequestSpec,
  Transport,
  TransportFactory,
  TransportHandlers,
} from './connection/types.js';
