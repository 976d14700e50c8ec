/**
 * The code of the rarer `flo.kv` calls: scans, history, JSON paths and transactions. `KvApi` in
 * `kv.ts` keeps their docs and argument checks and loads this module at the first subscription to
 * one of them (`onDemand`), so an app that only gets and puts never downloads it.
 */
import { Observable, map } from 'rxjs';
import { jsonCodec } from '../codec/json.js';
import { withData } from '../codec/payload.js';
import { fromUtf8, utf8 } from '../protocol/bytes.js';
import { ProtocolError } from '../protocol/errors.js';
import {
  decodeKvHistoryReply,
  decodeKvJsonGetReply,
  decodeKvJsonSetReply,
  decodeKvScanReply,
  encodeKvHistory,
  encodeKvJsonDel,
  encodeKvJsonGet,
  encodeKvJsonSet,
  encodeKvScan,
} from '../protocol/kv-rare.js';
import { ClientOp as Op } from '../protocol/client-opcodes.js';
import { ignorePayload } from './core/call.js';
import type { ClientCore } from './core/context.js';
import { withText } from './kv-entry.js';
import { quietNotFound } from './kv-args.js';
import type { KvJsonEntry, KvKey, KvScanEntry, KvScanPage, VersionEntry } from './kv.js';
import type { KvCallOptions, KvWriteResult } from './kv-types.js';

export { beginTxn, runTransaction } from './kv-txn.js';
export { watch } from './kv-watch.js';

/** A scan prefix as bytes (a string as UTF-8). */
const prefixBytes = (prefix: KvKey): Uint8Array => (typeof prefix === 'string' ? utf8(prefix) : prefix);

/** One scan request: the page at `cursor` (the first page without one). */
export function scanPage(
  core: ClientCore,
  prefix: KvKey,
  limit: number | undefined,
  cursor: Uint8Array | undefined,
  keysOnly: boolean | undefined,
  opts: KvCallOptions,
): Observable<KvScanPage> {
  const body = encodeKvScan({
    prefix: prefixBytes(prefix),
    ...(limit !== undefined ? { limit } : {}),
    ...(cursor && cursor.length ? { cursor } : {}),
    ...(keysOnly ? { keysOnly: true } : {}),
  });
  return core.call(core.spec(Op.KvScan, body, opts), decodeKvScanReply).pipe(
    map((r): KvScanPage => {
      const entries = r.entries.map(
        (e) => withText(withData({ key: fromUtf8(e.key), value: e.value }, 'value', core.codec)) as KvScanEntry,
      );
      return r.cursor ? { entries, cursor: r.cursor, hasMore: r.hasMore } : { entries, hasMore: r.hasMore };
    }),
  );
}

/** `kv.scan`: pages fetched one after the other, each once the previous one is emitted. */
export function scan(core: ClientCore, prefix: KvKey, limit: number, keysOnly: boolean | undefined, opts: KvCallOptions): Observable<KvScanEntry> {
  return new Observable<KvScanEntry>((subscriber) => {
    const p = prefixBytes(prefix);
    let current: { unsubscribe(): void } | undefined;
    const fetch = (cursor: Uint8Array | undefined): void => {
      current = scanPage(core, p, limit, cursor, keysOnly, opts).subscribe({
        next: (page) => {
          for (const e of page.entries) {
            if (subscriber.closed) return;
            subscriber.next(e);
          }
          if (subscriber.closed) return;
          if (!page.hasMore) subscriber.complete();
          else if (!page.cursor) subscriber.error(new ProtocolError('flo: kv scan: the server reported more entries but sent no cursor'));
          else fetch(page.cursor);
        },
        error: (e: unknown) => subscriber.error(e),
      });
    };
    fetch(undefined);
    return () => current?.unsubscribe();
  });
}

export function history(core: ClientCore, key: Uint8Array, limit: number | undefined, opts: KvCallOptions): Observable<VersionEntry[]> {
  const body = encodeKvHistory({ key, ...(limit !== undefined ? { limit } : {}) });
  return core.call(core.spec(Op.KvHistory, body, opts), decodeKvHistoryReply, { notFound: 'null' }).pipe(
    map((entries) =>
      (entries ?? []).map((e) => {
        const v =
          e.timestampNs !== undefined ? { version: e.version, timestampNs: e.timestampNs, value: e.value } : { version: e.version, value: e.value };
        return withText(withData(v, 'value', core.codec)) as VersionEntry;
      }),
    ),
  );
}

export function jsonGet(core: ClientCore, key: Uint8Array, path: string, opts: KvCallOptions): Observable<KvJsonEntry | null> {
  const spec = core.spec(Op.KvJsonGet, encodeKvJsonGet({ key, path }), opts);
  return core
    .call(spec, decodeKvJsonGetReply, { notFound: 'null' })
    .pipe(map((r) => (r ? (withData({ value: r.value, version: r.version }, 'value', jsonCodec) as KvJsonEntry) : null)));
}

export function jsonSet(core: ClientCore, key: Uint8Array, path: string, value: Uint8Array, opts: KvCallOptions): Observable<KvWriteResult> {
  const body = encodeKvJsonSet({ key, path, value });
  return core.call(core.spec(Op.KvJsonSet, body, opts), decodeKvJsonSetReply).pipe(map((r) => ({ version: r.version })));
}

export function jsonDel(core: ClientCore, key: Uint8Array, path: string, opts: KvCallOptions): Observable<void> {
  return core.call(core.spec(Op.KvJsonDel, encodeKvJsonDel({ key, path }), opts), ignorePayload).pipe(quietNotFound());
}
