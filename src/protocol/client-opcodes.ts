/**
 * The opcodes of the requests flo-rx's client sends, and their names for messages and logs. `Op`
 * (`opcodes.ts`) is this plus every other opcode of the protocol (replies, cluster, time series,
 * ...): the client imports only this part, so a browser bundle carries neither those opcodes nor
 * their names.
 */
export const ClientOp = {
  Ping: 0x000,
  NamespaceList: 0x012,
  NamespaceInfo: 0x013,
  KvPut: 0x100,
  KvGet: 0x101,
  KvMGet: 0x102,
  KvDelete: 0x103,
  KvScan: 0x104,
  KvHistory: 0x105,
  KvIncr: 0x10b,
  KvJsonGet: 0x10c,
  KvJsonSet: 0x10d,
  KvJsonDel: 0x10e,
  KvBeginTxn: 0x110,
  KvCommitTxn: 0x111,
  KvRollbackTxn: 0x112,
  KvTouch: 0x113,
  KvPersist: 0x114,
  KvExists: 0x115,
  StreamAppend: 0x130,
  StreamRead: 0x131,
  StreamTrim: 0x132,
  StreamInfo: 0x133,
  StreamList: 0x13b,
  StreamGroupCreate: 0x150,
  StreamGroupJoin: 0x151,
  StreamGroupLeave: 0x152,
  StreamGroupRead: 0x153,
  StreamGroupAck: 0x154,
  StreamGroupClaim: 0x155,
  StreamGroupPending: 0x156,
  StreamGroupNack: 0x159,
  StreamGroupTouch: 0x15a,
  StreamGroupInfo: 0x15b,
  QueueEnqueue: 0x170,
  QueueDequeue: 0x171,
  QueueComplete: 0x172,
  QueueExtendLease: 0x173,
  QueueFail: 0x174,
  QueueDlqList: 0x176,
  QueueDlqDelete: 0x177,
  QueueDlqRequeue: 0x178,
  QueueDlqStats: 0x179,
  QueueStats: 0x17b,
  QueuePeek: 0x17c,
  QueueTouch: 0x17d,
  QueuePurge: 0x17f,
  QueueList: 0x198,
  ActionRegister: 0x300,
  ActionInvoke: 0x301,
  ActionStatus: 0x302,
  ActionList: 0x303,
  ActionListRuns: 0x304,
  ActionDelete: 0x305,
  ActionAwait: 0x306,
  ActionComplete: 0x307,
  ActionFail: 0x308,
  ActionTouch: 0x309,
  WorkerRegister: 0x320,
  WorkerHeartbeat: 0x321,
  WorkerDeregister: 0x322,
  WorkflowCreate: 0x340,
  WorkflowStart: 0x341,
  WorkflowSignal: 0x342,
  WorkflowCancel: 0x343,
  WorkflowStatus: 0x344,
  WorkflowHistory: 0x345,
  WorkflowListRuns: 0x346,
  WorkflowGetDefinition: 0x347,
  WorkflowDisable: 0x348,
  WorkflowEnable: 0x349,
  WorkflowListDefinitions: 0x34a,
  ProcessingSubmit: 0x360,
  ProcessingStop: 0x361,
  ProcessingCancel: 0x362,
  ProcessingStatus: 0x363,
  ProcessingList: 0x364,
  ProcessingSavepoint: 0x365,
  ProcessingRestore: 0x366,
  ProcessingRescale: 0x367,
} as const;

/** Client opcodes whose wire name is not the snake_case of their key (`opcodes.ts` adds the others'). */
export const IRREGULAR_CLIENT_NAMES: Readonly<Record<string, string>> = { KvMGet: 'kv_mget' };

/**
 * The snake_case wire names (`kv_put`) of the opcodes of `table`, derived from its keys; `irregular`
 * names those whose wire name is not that.
 */
export function opcodeNamesOf(
  table: Readonly<Record<string, number>>,
  irregular: Readonly<Record<string, string>> = IRREGULAR_CLIENT_NAMES,
): Map<number, string> {
  const byOpcode = new Map<number, string>();
  for (const [key, opcode] of Object.entries(table)) {
    byOpcode.set(opcode, irregular[key] ?? key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase());
  }
  return byOpcode;
}

/** `0x101` for an opcode without a name. */
export function hexOpcode(opcode: number): string {
  return `0x${opcode.toString(16).padStart(3, '0')}`;
}

let clientNames: ReadonlyMap<number, string> | undefined;

/**
 * The wire name of a request the client sends (`kv_get`), for its error messages; the hex code for
 * any other opcode (`opcodeName` in `opcodes.ts` names every opcode).
 */
export function clientOpcodeName(opcode: number): string {
  clientNames ??= opcodeNamesOf(ClientOp);
  return clientNames.get(opcode) ?? hexOpcode(opcode);
}
