import { ClientOp, IRREGULAR_CLIENT_NAMES, hexOpcode, opcodeNamesOf } from './client-opcodes.js';

/**
 * Every opcode of the Flo protocol (u16 at request header bytes 20-21), named as Flo's SDKs name
 * them: the requests the client sends (`ClientOp`), then the rest.
 */
export const Op = {
  ...ClientOp,
  Pong: 0x001,
  ErrorResponse: 0x002,
  Auth: 0x003,
  SetDurability: 0x004,
  OK: 0x005,
  NamespaceCreate: 0x010,
  NamespaceDelete: 0x011,
  NamespaceConfigSet: 0x014,
  NamespaceConfigGet: 0x015,
  NamespaceCreateResponse: 0x020,
  NamespaceDeleteResponse: 0x021,
  NamespaceListResponse: 0x022,
  NamespaceInfoResponse: 0x023,
  NamespaceConfigSetResponse: 0x024,
  NamespaceConfigGetResponse: 0x025,
  ClusterStatus: 0x030,
  ClusterMembers: 0x031,
  ClusterJoin: 0x032,
  ClusterLeave: 0x033,
  ClusterTransferLeader: 0x034,
  ClusterAddNode: 0x035,
  ClusterRemoveNode: 0x036,
  ClusterStatusResponse: 0x040,
  ClusterMembersResponse: 0x041,
  ClusterJoinResponse: 0x042,
  KvGetResponse: 0x106,
  KvMGetResponse: 0x107,
  KvPutResponse: 0x108,
  KvScanResponse: 0x109,
  KvHistoryResponse: 0x10a,
  KvIncrResponse: 0x116,
  KvJsonResponse: 0x117,
  KvExistsResponse: 0x118,
  KvTxnResponse: 0x119,
  StreamAppendResponse: 0x134,
  StreamReadResponse: 0x135,
  StreamEvent: 0x136,
  StreamSubscribe: 0x137,
  StreamUnsubscribe: 0x138,
  StreamSubscribed: 0x139,
  StreamUnsubscribed: 0x13a,
  StreamListResponse: 0x13c,
  StreamCreate: 0x13d,
  StreamCreateResponse: 0x13e,
  StreamAlter: 0x13f,
  StreamDelete: 0x140,
  StreamGroupConfigureSweeper: 0x157,
  StreamGroupReadResponse: 0x158,
  StreamGroupDelete: 0x15c,
  QueueFailAuto: 0x175,
  QueuePromoteDue: 0x17a,
  QueueBatchEnqueue: 0x17e,
  QueueEnqueueResponse: 0x190,
  QueueDequeueResponse: 0x191,
  QueueDlqListResponse: 0x192,
  QueueStatsResponse: 0x193,
  QueuePeekResponse: 0x194,
  QueueTouchResponse: 0x195,
  QueueBatchEnqueueResponse: 0x196,
  QueuePurgeResponse: 0x197,
  QueueListResponse: 0x199,
  TsWrite: 0x1a0,
  TsRead: 0x1a1,
  TsQuery: 0x1a2,
  TsFloQL: 0x1a3,
  TsList: 0x1a4,
  TsDelete: 0x1a5,
  TsRetention: 0x1a6,
  TsWriteResponse: 0x1a7,
  TsReadResponse: 0x1a8,
  TsQueryResponse: 0x1a9,
  TsFloQLResponse: 0x1aa,
  TsListResponse: 0x1ab,
  TsDeleteResponse: 0x1ac,
  TsRetentionResponse: 0x1ad,
  ActionRegisterResponse: 0x310,
  ActionInvokeResponse: 0x311,
  ActionStatusResponse: 0x312,
  ActionListResponse: 0x313,
  ActionListRunsResponse: 0x314,
  ActionTaskAssignment: 0x315,
  WorkerList: 0x323,
  WorkerInfo: 0x324,
  WorkerDrain: 0x325,
  WorkerRegisterResponse: 0x330,
  WorkerListResponse: 0x331,
  WorkerInfoResponse: 0x332,
  WorkerDrainResponse: 0x333,
  WorkflowCreateResponse: 0x350,
  WorkflowStartResponse: 0x351,
  WorkflowStatusResponse: 0x352,
  WorkflowHistoryResponse: 0x353,
  WorkflowListRunsResponse: 0x354,
  WorkflowGetDefinitionResponse: 0x355,
  WorkflowDisableResponse: 0x356,
  WorkflowEnableResponse: 0x357,
  WorkflowListDefinitionsResponse: 0x358,
  ProcessingSubmitResponse: 0x370,
  ProcessingStopResponse: 0x371,
  ProcessingCancelResponse: 0x372,
  ProcessingStatusResponse: 0x373,
  ProcessingListResponse: 0x374,
  ProcessingSavepointResponse: 0x375,
  ProcessingRestoreResponse: 0x376,
  ProcessingRescaleResponse: 0x377,
} as const;

export type Opcode = (typeof Op)[keyof typeof Op];

/** Opcodes whose wire name is not the snake_case of their key. */
const IRREGULAR_NAMES: Readonly<Record<string, string>> = {
  ...IRREGULAR_CLIENT_NAMES,
  KvMGetResponse: 'kv_mget_response',
  TsFloQL: 'ts_floql',
  TsFloQLResponse: 'ts_floql_response',
};

// Names are derived from the keys of `Op` on first use instead of kept as a second table of 185
// strings; the client names its requests from `ClientOp` alone (`clientOpcodeName`).

/** snake_case wire names (`kv_put`), for messages and logs. */
export const OPCODE_NAMES: ReadonlyMap<number, string> = /* @__PURE__ */ opcodeNamesOf(Op, IRREGULAR_NAMES);

let names: ReadonlyMap<number, string> | undefined;

/** The wire name of any opcode (`kv_put`, `kv_get_response`), else its hex code. */
export function opcodeName(opcode: number): string {
  names ??= opcodeNamesOf(Op, IRREGULAR_NAMES);
  return names.get(opcode) ?? hexOpcode(opcode);
}
