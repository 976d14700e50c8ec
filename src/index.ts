// Universal entry point (`flo-rx`): runs in Node and browsers; imports no `node:` module.
export { connect, connectWith, type ConnectOptions, type Address } from './client/connect.js';
export { FloClient, type FloClientOptions, type ClientChannel } from './client/client.js';
export { KvApi } from './client/kv.js';
export type {
  KvEntry, KvKey, Int64Like, KvCallOptions, KvGetOptions, KvWatchOptions, KvPutOptions, KvDeleteOptions, KvIncrOptions,
  KvTouchOptions, KvWriteResult, MGetEntry, KvScanEntry, KvScanPage, KvScanOptions, KvScanPageOptions, VersionEntry,
  KvHistoryOptions, KvJsonEntry, KvJsonApi, KvTxn, KvTxnOps, KvTxnBody, KvTxnResult, KvTxnState, KvTxnCallOptions,
} from './client/kv.js';
export { QueueApi, QueueDlqApi } from './client/queue.js';
export type {
  QueueEntry, QueueMessage, DlqEntry, QueueStats, DlqStats, EnqueueOptions, DequeueOptions, MessagesOptions,
  QueueNackOptions, QueueTouchOptions, DlqListOptions, Seqs,
} from './client/queue.js';
export { StreamApi } from './client/stream-api.js';
export { newConsumerId } from './client/stream-args.js';
export type {
  StreamRecord, GroupRecord, StreamInfo, StreamTrimReply, StreamGroupInfo, StreamGroupJoinReply, StreamAppendOptions,
  StreamReadOptions, StreamTailOptions, StreamGroupOptions, StreamGroupReadOptions, StreamTrimOptions,
  StreamGroupIdsOptions, StreamGroupNackOptions, StreamGroupTouchOptions, StreamGroupCreateOptions,
} from './client/stream.js';
export { streamWorker, type StreamWorkerOptions } from './client/stream-worker.js';
export { ActionsApi } from './client/actions.js';
export type {
  ActionRunStatusName, ActionRunStatus, ActionInfo, ActionRunSummary, ActionRegisterOptions, ActionInvokeOptions,
  ActionListRunsOptions,
} from './client/actions.js';
export {
  NonRetryableError, ActionResultTooLargeError, ActionTimeoutError, ActionResult, actionResult, MAX_ACTION_RESULT_BYTES,
  type ActionTask, type ActionHandler, type ActionDefinition, type ActionHandlers, type ActionWorkerOptions,
  type DrainReason, type WorkerEvent,
} from './client/action-worker/index.js';
export { WorkflowApi } from './client/workflow.js';
export type {
  WorkflowHistoryEventType, WorkflowRunStatusName, WorkflowSyncResult, RunStatus, HistoryEvent, WorkflowRunSummary,
  WorkflowDefinitionSummary, WorkflowStartOptions, WorkflowWatchOptions, WorkflowListRunsOptions,
} from './client/workflow.js';
export { ProcessingApi } from './client/processing/index.js';
export type {
  ProcessingJobInfo, ProcessingJobSummary, ProcessingJobPage, ProcessingSyncResult, ProcessingListOptions, ProcessingWatchOptions,
  ProcessingJobStatusName,
} from './client/processing/index.js';
export * from './operators/index.js';
export * from './codec/index.js';
export { Connection, type ReconnectOptions } from './connection/connection.js';
/** Options of a `Connection`: endpoints, transport, timeouts, reconnect and frame limits. */
export type { ConnectionOptions } from './connection/connection.js';
export { webSocketTransport, type WebSocketTransportOptions, type WebSocketConstructor } from './connection/websocket.js';
export type {
  ConnectionState, ConnectionInfo, ConnectionEvent, RequestChannel, RequestSpec, ReplySink, Transport, TransportFactory,
} from './connection/types.js';
export {
  REQUEST_CHANNEL, CONNECT_CHANNEL, type RequestTraceContext, type ConnectTraceContext, type TraceChannel,
  type TraceEventChannel, type ClientTracing, type DiagnosticsChannelModule,
} from './connection/tracing.js';
export type { FloEvent, FloEventType, HandBackReason } from './observability/events.js';
export { consoleLogger, type FloLogger, type LogLevel, type ConsoleLike } from './observability/logger.js';
export type { ClientTelemetry, DeliveredItem } from './observability/telemetry.js';
export type { RetryOptions } from './client/core/retry.js';
export type { DrainOptions } from './client/core/drain.js';
export {
  FloError,
  ServerError,
  NotFoundError,
  BadRequestError,
  ConflictError,
  UnauthorizedError,
  OverloadedError,
  RateLimitedError,
  InternalServerError,
  GroupLockedError,
  UnavailableError,
  ProtocolError,
  FrameTooLargeError,
  InvalidArgumentError,
  TimeoutError,
  ConnectionError,
  ConnectionLostError,
  ClientClosedError,
  TxnUnsupportedOpError,
  isNotFound,
  isBadRequest,
  isConflict,
  isUnauthorized,
  isOverloaded,
  isRateLimited,
  isInternal,
  isTimeout,
  isConnectionLost,
  isConnectionError,
  isRetryable,
} from './protocol/errors.js';
export { Status, statusText } from './protocol/status.js';
export { MAX_NAMESPACE_BYTES, MAX_KEY_BYTES, MAX_VALUE_BYTES, KV_MAX_QUALIFIED_KEY, KV_MAX_ENTRY_PAYLOAD } from './protocol/limits.js';
export type { StreamId } from './protocol/options.js';
export { formatStreamId, parseStreamId, compareStreamIds, streamId } from './protocol/stream-common.js';
export * from './projection/index.js';
