// Node entry point (`flo-rx/node`): everything of the universal entry, plus TCP. `connect('host:port')`
// speaks TCP; `connect('ws://host:port')` speaks WebSocket.
import { checkEndpoints, connect as connectUniversal, connectWith, endpointsOf, isWebSocketAddress, type Address, type ConnectOptions } from './client/connect.js';
import type { FloClient } from './client/client.js';
import * as diagnostics from 'node:diagnostics_channel';
import { nodeFrameCrc } from './connection/native-frame-crc.js';
import { parseEndpoint, tcpTransport } from './connection/tcp.js';
import { tracingFrom } from './connection/tracing.js';

export * from './index.js';
export { tcpTransport, parseEndpoint, DEFAULT_PORT } from './connection/tcp.js';
export { syncFile, syncDir } from './client/workflow-file.js';
export { syncProcessingFile, syncProcessingDir } from './client/processing/file.js';

/** Connects to Flo: TCP for `host:port` (default port 9000), WebSocket for `ws://` / `wss://` URLs. */
export function connect(address: Address = 'localhost:9000', options: ConnectOptions = {}): FloClient {
  const endpoints = endpointsOf(address);
  if (endpoints.every(isWebSocketAddress)) return connectUniversal(endpoints, options);
  if (!options.transport) checkEndpoints(endpoints, parseEndpoint);
  return connectWith(endpoints, tcpTransport, options, tracingFrom(diagnostics), nodeFrameCrc);
}
