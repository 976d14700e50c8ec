/**
 * Turns a reply payload into the shape the Go SDK's `sdk_parsed` takes in the golden vectors, using
 * only the client-side decoders of `src/protocol`.
 */
import {
  decodeKvBeginTxnReply,
  decodeKvCommitTxnReply,
  decodeKvExistsReply,
  decodeKvGetReply,
  decodeKvHistoryReply,
  decodeKvIncrReply,
  decodeKvJsonGetReply,
  decodeKvJsonSetReply,
  decodeKvMGetReply,
  decodeKvPutReply,
  decodeKvScanReply,
  decodeQueueDequeueReply,
  decodeQueueDlqListReply,
  decodeQueueEnqueueReply,
  decodeQueuePeekReply,
  decodeStreamAppendReply,
  decodeStreamInfoReply,
  decodeStreamRecords,
  formatStreamId,
  fromUtf8,
  toHex,
  type QueueMessage,
  type StreamRecord,
} from '../../../src/protocol/index.js';

const msgs = (ms: readonly QueueMessage[]) => ms.map((m) => ({ payload: fromUtf8(m.payload), seq: Number(m.seq) }));

/** Every field the Go SDK reports for a record (the vectors list a subset per vector). */
export function recordView(r: StreamRecord): Record<string, unknown> {
  return {
    id: formatStreamId(r.id),
    payload: fromUtf8(r.payload),
    sequence: Number(r.id.sequence),
    timestamp_ms: Number(r.id.timestampMs),
    tier: r.tier,
    stream: r.stream ?? '',
    headers: r.headers.length ? Object.fromEntries(r.headers) : null,
  };
}

/**
 * The SDK-shaped view of an OK reply to `opName`. `like` is the vector's `sdk_parsed`, used to pick
 * the record fields the SDK exposed (and the count-only form of one group-read vector).
 */
export function sdkView(opName: string, p: Uint8Array, like: unknown): unknown {
  switch (opName) {
    case 'kv_put':
      return { version: Number(decodeKvPutReply(p).version) };
    case 'kv_get': {
      const r = decodeKvGetReply(p);
      return { value: fromUtf8(r.value), version: Number(r.version) };
    }
    case 'kv_delete':
    case 'kv_touch':
    case 'kv_persist':
    case 'kv_rollback_txn':
      return 'ok';
    case 'kv_json_del':
      return { version: 0 };
    case 'kv_scan': {
      const page = decodeKvScanReply(p);
      if (page.entries.length === 0 && !page.hasMore) return { entries: 0, has_more: false };
      return {
        ...(page.cursor ? { cursor_hex: toHex(page.cursor) } : {}),
        entries: page.entries.map((e) => ({ key: fromUtf8(e.key), value: fromUtf8(e.value) })),
        has_more: page.hasMore,
      };
    }
    case 'kv_mget':
      return decodeKvMGetReply(p).map((e) => ({ found: e.found, key: fromUtf8(e.key), value: fromUtf8(e.value), version: Number(e.version) }));
    case 'kv_history':
      return decodeKvHistoryReply(p).map((e) => ({ timestamp: Number(e.timestampNs ?? 0n), value: fromUtf8(e.value), version: Number(e.version) }));
    case 'kv_incr':
      return Number(decodeKvIncrReply(p).value);
    case 'kv_exists':
      return decodeKvExistsReply(p).present;
    case 'kv_json_get': {
      const r = decodeKvJsonGetReply(p);
      return { value: fromUtf8(r.value), version: Number(r.version) };
    }
    case 'kv_json_set':
      return { version: Number(decodeKvJsonSetReply(p).version) };
    case 'kv_begin_txn': {
      const r = decodeKvBeginTxnReply(p);
      return { pinned_hash: `0x${r.pinnedHash.toString(16).padStart(16, '0')}`, txn_id: Number(r.txnId) };
    }
    case 'kv_commit_txn': {
      const r = decodeKvCommitTxnReply(p);
      return { commit_index: Number(r.commitIndex), op_count: r.opCount };
    }
    case 'queue_enqueue':
      return Number(decodeQueueEnqueueReply(p).seq);
    case 'queue_dequeue':
      return msgs(decodeQueueDequeueReply(p).messages);
    case 'queue_peek':
      return msgs(decodeQueuePeekReply(p).messages);
    case 'queue_dlq_list':
      return msgs(decodeQueueDlqListReply(p).messages);
    case 'queue_complete':
    case 'queue_fail':
    case 'queue_dlq_requeue':
    case 'queue_touch':
    case 'stream_trim':
    case 'stream_group_join':
    case 'stream_group_leave':
    case 'stream_group_ack':
    case 'stream_group_nack':
      return 'ok';
    case 'stream_append': {
      const id = decodeStreamAppendReply(p);
      return { sequence: Number(id.sequence), timestamp_ms: Number(id.timestampMs) };
    }
    case 'stream_read':
    case 'stream_group_read': {
      const recs = decodeStreamRecords(p);
      if (typeof like === 'number') return recs.length;
      const first = Array.isArray(like) && like.length > 0 ? (like[0] as Record<string, unknown>) : { id: 0, payload: 0 };
      return recs.map((r) => {
        const full = recordView(r);
        return Object.fromEntries(Object.keys(first).map((k) => [k, full[k]]));
      });
    }
    case 'stream_info': {
      const i = decodeStreamInfoReply(p);
      return {
        bytes: Number(i.bytes),
        count: Number(i.count),
        first_id: formatStreamId(i.firstId),
        last_id: formatStreamId(i.lastId),
        partition_count: i.partitionCount,
      };
    }
    default:
      throw new Error(`no SDK view for ${opName}`);
  }
}
