/**
 * Helpers shared by the KV codecs of `kv.ts` (the calls an app makes at start: get, put, ...) and
 * `kv-rare.ts` (scan, history, JSON paths, transactions). Kept apart so that a browser bundle that
 * loads the rare codecs on demand does not pull them into its start-up code through these.
 */
import { ByteWriter } from './bytes.js';
import { ProtocolError } from './errors.js';
import type { OpPayload, RequestBody } from './frame.js';
import type { KvTxnRef } from './kv.js';
import { Opt, OptionsBuilder, OptionsReader } from './options.js';

export function options(fill: (b: OptionsBuilder) => void): Uint8Array | undefined {
  const b = new OptionsBuilder();
  fill(b);
  return b.length ? b.build() : undefined;
}

export function payload(key: Uint8Array, value?: Uint8Array, opts?: Uint8Array): OpPayload {
  const p: { key: Uint8Array; value?: Uint8Array; options?: Uint8Array } = { key };
  if (value && value.length) p.value = value;
  if (opts && opts.length) p.options = opts;
  return p;
}

export function addTxn(b: OptionsBuilder, txn: KvTxnRef | undefined): void {
  if (!txn) return;
  if (txn.routingKey && txn.routingKey.length) b.bytes(Opt.RoutingKey, txn.routingKey);
  b.u64(Opt.TxnID, txn.txnId);
}

export function readTxn(o: OptionsReader): KvTxnRef | undefined {
  if (!o.has(Opt.TxnID)) return undefined;
  const txnId = o.u64(Opt.TxnID);
  if (txnId === undefined) throw new ProtocolError('txn_id option must be u64');
  const routingKey = o.raw(Opt.RoutingKey);
  return routingKey && routingKey.length ? { txnId, routingKey } : { txnId };
}

export function u64le(v: bigint): Uint8Array {
  return new ByteWriter(8).u64(v).finish();
}

export function i64le(v: bigint): Uint8Array {
  return new ByteWriter(8).i64(v).finish();
}

export function opts(body: RequestBody): OptionsReader {
  return new OptionsReader(body.options);
}

/**
 * The view of a fixed-layout reply of `size` bytes (more allowed only when `rest`), or a
 * `ProtocolError`. A plain walk instead of a `ByteReader`: the replies a browser app reads most
 * (get, put, incr, exists) then need no reader class in its bundle, and no allocation but the view.
 */
export function fixedReply(p: Uint8Array, size: number, what: string, rest = false): DataView {
  if (p.length < size) throw new ProtocolError(`truncated ${what}: ${size} byte(s) expected, ${p.length} received`);
  if (!rest && p.length > size) throw new ProtocolError(`${p.length - size} unexpected trailing byte(s) in ${what}`);
  return new DataView(p.buffer, p.byteOffset, p.byteLength);
}

/** Exactly a u64 (8 bytes) reply. */
export function decodeVersionOnly(p: Uint8Array, what: string): bigint {
  return fixedReply(p, 8, what).getBigUint64(0, true);
}

export function withOptional<T extends object, K extends string, V>(obj: T, key: K, value: V | undefined): T & { [P in K]?: V } {
  if (value !== undefined) (obj as Record<string, unknown>)[key] = value;
  return obj as T & { [P in K]?: V };
}
