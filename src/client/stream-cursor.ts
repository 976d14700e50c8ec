import type { StreamId } from '../protocol/options.js';
import { compareStreamIds, STREAM_MAX_READ_COUNT, streamIdEquals } from '../protocol/stream.js';

const U64_MAX = 0xffffffffffffffffn;

/** The id right after `id` (`ts-(seq+1)`, or `(ts+1)-0` when the sequence is at its maximum). */
export function successorId(id: StreamId): StreamId {
  if (id.sequence < U64_MAX) return { timestampMs: id.timestampMs, sequence: id.sequence + 1n };
  return { timestampMs: id.timestampMs + 1n, sequence: 0n };
}

/** What one page request sends: its start (absent: from the beginning) and its count. */
export interface PageRequest {
  readonly start?: StreamId;
  readonly count: number;
}

/**
 * Where the next read of a stream starts, and which records of its reply are new: the resume rule
 * of `docs/protocol-decisions.md` #13, shared by `stream.read` (pages) and `stream.tail` (long-polls).
 *
 * Servers disagree on whether a read's `start` is inclusive (the embedded server, Go, JS) or
 * exclusive (the newest server). Once a record has been seen, the next read is sent with
 * `start = lastId` and every id ≤ lastId in the reply is dropped: correct against both, no gap and
 * no duplicate. The page asks for one record more than the page size, because an inclusive server
 * sends `lastId` back and that record must not use up the page (with a page size of 1 the read
 * would otherwise never move).
 *
 * One refinement keeps a tail from spinning: a blocking read parks only when nothing matches, and
 * on an inclusive server `lastId` itself always matches, so `start = lastId` would be answered at
 * once, forever. When a reply carries `lastId` back, the server has shown it reads `start`
 * inclusively, and only then does the cursor send `start = successor(lastId)` (exactly "after
 * lastId" on such a server; never sent to a server that has not shown it). `forgetEchoes()` (called
 * after a reconnect, which may have reached another server) goes back to the safe form.
 */
export class ReadCursor {
  private last_: StreamId | undefined;
  private echoes_ = false;

  private readonly from_: StreamId | undefined;
  /**
   * @param from_ inclusive start of the first read (undefined: the beginning)
   * @param after exclusive position: records up to and including it are never emitted (`'end'`)
   */
  constructor(
    from_?: StreamId,
    after?: StreamId,
  ) {
    this.from_ = from_;
    this.last_ = after;
  }

  /** The highest id seen (or the exclusive position given), if any. */
  get lastId(): StreamId | undefined {
    return this.last_;
  }

  /** Positions the cursor after `id` (nothing at or before it will be emitted). */
  resumeAfter(id: StreamId): void {
    if (!this.last_ || compareStreamIds(id, this.last_) > 0) this.last_ = id;
  }

  /** The next page request for `pageSize` new records. */
  next(pageSize: number): PageRequest {
    if (!this.last_) return { ...(this.from_ ? { start: this.from_ } : {}), count: pageSize };
    if (this.echoes_) return { start: successorId(this.last_), count: pageSize };
    return { start: this.last_, count: Math.min(pageSize + 1, STREAM_MAX_READ_COUNT) };
  }

  /** Takes a reply to `sent`: returns its records newer than the last id seen, and moves past them. */
  accept<R extends { readonly id: StreamId }>(records: readonly R[], sent: PageRequest): R[] {
    const last = this.last_;
    if (!last) {
      for (const r of records) this.resumeAfter(r.id);
      return [...records];
    }
    if (sent.start && streamIdEquals(sent.start, last) && records.some((r) => streamIdEquals(r.id, last))) this.echoes_ = true;
    const fresh = records.filter((r) => compareStreamIds(r.id, last) > 0);
    for (const r of fresh) this.resumeAfter(r.id);
    return fresh;
  }

  /** After a reconnect: resume with `start = lastId` again until the server shows how it reads. */
  forgetEchoes(): void {
    this.echoes_ = false;
  }
}
