// Replays every kv_* Go SDK vector against the subsystem after setting up the state the vector
// implies; the reply must be the vector's bytes, or (where the bytes depend on state we cannot
// reproduce: Flo's scan cursor, wyhash, Raft index) decode to the same fields.
import { describe, expect, it } from 'vitest';
import {
  decodeKvBeginTxnReply,
  decodeKvCommitTxnReply,
  decodeKvScanReply,
  fromHex,
  toHex,
  type KvTxnRef,
} from '../../../src/protocol/index.js';
import { allVectors, type Vector } from '../../vectors.js';
import { b, harness, okPayload, type Harness } from './helpers.js';
import { ops } from './ops.js';

const txn7: KvTxnRef = { txnId: 7n, routingKey: b('user:42') };

async function beginUntil(h: Harness, id: bigint) {
  const kv = ops(h);
  for (let i = 1n; i <= id; i++) await kv.begin('user:42');
}

interface Setup {
  readonly startMs?: number;
  readonly setup?: (h: Harness) => Promise<void>;
  /** Advance the clock after sending (blocking vectors). */
  readonly advanceMs?: number;
  /** Set when the bytes cannot match: checks the decoded reply instead. */
  readonly check?: (payload: Uint8Array, v: Vector) => void;
}

const setups: Record<string, Setup> = {
  kv_put_ttl_cas: { setup: async (h) => void (await Promise.all([1, 2, 3, 4, 5].map(() => ops(h).put('user:1', 'x')))) },
  kv_put_nx_ttl_conflict: { setup: async (h) => void (await ops(h).put('lock:job', 'owner-0')) },
  kv_put_if_exists: { setup: async (h) => void (await Promise.all([1, 2, 3, 4, 5, 6].map(() => ops(h).put('user:1', 'x')))) },
  kv_get: {
    setup: async (h) => {
      await ops(h).put('user:1', 'a');
      await ops(h).put('user:1', 'b');
      await ops(h).put('user:1', 'hello');
    },
  },
  kv_get_block: { advanceMs: 5000 },
  kv_delete_if_match: { setup: async (h) => void (await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => ops(h).put('lock:job', 'x')))) },
  kv_scan_cursor_limit_keys_only: {
    setup: async (h) => {
      await ops(h).put('user:1', 'hello');
      await ops(h).put('user:2', '');
    },
    // The vector's reply came from a fake server (a value despite keys-only, Flo's offset cursor).
    check: (p) => {
      const page = decodeKvScanReply(p);
      expect(page.entries.map((e) => [new TextDecoder().decode(e.key), e.value.length])).toEqual([
        ['user:1', 0],
        ['user:2', 0],
      ]);
      expect(page.hasMore).toBe(false);
    },
  },
  kv_scan_default: {},
  kv_mget: {
    setup: async (h) => {
      for (let i = 0; i < 4; i++) await ops(h).put('a', 'va');
    },
  },
  kv_history_limit: {
    startMs: 1_699_999_999_000,
    setup: async (h) => {
      await ops(h).put('user:1', 'v1');
      h.clock.advance(1000);
      await ops(h).put('user:1', 'v2');
    },
  },
  kv_incr_delta: {
    setup: async (h) => {
      for (let i = 0; i < 7; i++) await ops(h).incr('visits', 6n);
      await ops(h).incr('visits', 0n);
    },
  },
  kv_incr_default: {},
  kv_incr_not_counter_error: { setup: async (h) => void (await ops(h).put('user:1', 'hello')) },
  kv_touch_if_match: { setup: async (h) => void (await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => ops(h).put('lock:job', 'x')))) },
  kv_persist: { setup: async (h) => void (await ops(h).put('lock:job', 'x', { ttlSeconds: 30n })) },
  kv_exists: { setup: async (h) => void (await Promise.all([1, 2, 3].map(() => ops(h).put('user:1', 'x')))) },
  kv_json_get: {
    setup: async (h) => {
      for (let i = 0; i < 4; i++) await ops(h).put('order:42', '{}');
      await ops(h).put('order:42', '{"id":42, "status": "new"}');
    },
  },
  kv_json_set: {
    setup: async (h) => {
      for (let i = 0; i < 5; i++) await ops(h).put('order:42', '{"status":"new"}');
    },
  },
  kv_json_del: { setup: async (h) => void (await ops(h).put('order:42', '{"status":"new"}')) },
  kv_begin_txn: {
    setup: (h) => beginUntil(h, 6n),
    // Flo's pinned hash is a wyhash; ours is FNV-1a (see README "Differences from Flo").
    check: (p) => expect(decodeKvBeginTxnReply(p).txnId).toBe(7n),
  },
  kv_txn_put: { setup: (h) => beginUntil(h, 7n) },
  kv_txn_incr: { setup: (h) => beginUntil(h, 7n) },
  kv_commit_txn: {
    setup: async (h) => {
      await beginUntil(h, 7n);
      await ops(h).put('user:42:name', 'Jane', { txn: txn7 });
      await ops(h).incr('user:42:visits', 1n, txn7);
    },
    check: (p) => expect(decodeKvCommitTxnReply(p).opCount).toBe(2), // commit index: ours counts our writes
  },
  kv_rollback_txn: { setup: (h) => beginUntil(h, 8n) },
  kv_txn_get: {
    setup: async (h) => {
      await beginUntil(h, 7n);
      await ops(h).put('user:42:name', 'Jane', { txn: txn7 });
    },
  },
  kv_txn_delete: {
    setup: async (h) => {
      await ops(h).put('user:42:old', 'x');
      await beginUntil(h, 7n);
    },
  },
  kv_txn_touch: {
    setup: async (h) => {
      await ops(h).put('user:42:name', 'Ann');
      await beginUntil(h, 7n);
    },
  },
  kv_txn_persist: {
    setup: async (h) => {
      await ops(h).put('user:42:name', 'Ann', { ttlSeconds: 60n });
      await beginUntil(h, 7n);
    },
  },
  kv_txn_exists: {
    setup: async (h) => {
      await beginUntil(h, 7n);
      await ops(h).put('user:42:name', 'Jane', { txn: txn7 });
    },
  },
};

const kvVectors = allVectors.filter((v) => v.name.startsWith('kv_'));

describe('the KV subsystem answers every kv vector as the vector says', () => {
  it('has a setup for every kv vector', () => {
    expect(kvVectors.map((v) => v.name).sort()).toEqual(Object.keys(setups).sort());
  });

  for (const v of kvVectors) {
    it(v.name, async () => {
      const st = setups[v.name];
      for (const profile of ['go', 'flo'] as const) {
        const h = harness(profile, st.startMs);
        await st.setup?.(h);
        const pending = h.send(v.opcode, { key: b(v.key), value: fromHex(v.value_hex), options: fromHex(v.options_hex) }, v.namespace);
        if (st.advanceMs) h.clock.advance(st.advanceMs);
        const reply = await pending;
        expect(reply.status).toBe(v.response.status);
        if (st.check) st.check(okPayload(reply), v);
        else if (profile === 'go' || !['kv_scan_default', 'kv_history_limit'].includes(v.name)) {
          expect(toHex(reply.payload ?? new Uint8Array())).toBe(v.response.payload_hex);
        }
      }
    });
  }
});
