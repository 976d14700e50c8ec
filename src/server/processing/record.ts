/**
 * One record flowing through a job's operator chain: key, value bytes, event time, the tags
 * `classify` set, and where it came from (for sink keys). The value is parsed as JSON at most once.
 */
const decoder = new TextDecoder();
const NOT_JSON = Symbol('not json');

export interface ProcessingRecord {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly eventTimeMs: number;
  readonly tags: ReadonlySet<string>;
  /** `<ts>-<seq>` of the source record this one came from. */
  readonly sourceId: string;
  /** The value parsed as JSON; `undefined` when it is not JSON. */
  json(): unknown;
}

export interface RecordInit {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly eventTimeMs: number;
  readonly tags?: ReadonlySet<string>;
  readonly sourceId: string;
}

const NO_TAGS: ReadonlySet<string> = new Set();

export function makeRecord(init: RecordInit): ProcessingRecord {
  let parsed: unknown = NOT_JSON;
  let done = false;
  return {
    key: init.key,
    value: init.value,
    eventTimeMs: init.eventTimeMs,
    tags: init.tags ?? NO_TAGS,
    sourceId: init.sourceId,
    json() {
      if (!done) {
        done = true;
        try {
          parsed = JSON.parse(decoder.decode(init.value));
        } catch {
          parsed = NOT_JSON;
        }
      }
      return parsed === NOT_JSON ? undefined : parsed;
    },
  };
}

/** A copy of `rec` with some fields replaced (tags and source carried over; the parsed JSON too when the value is kept). */
export function withRecord(rec: ProcessingRecord, change: Partial<RecordInit>): ProcessingRecord {
  if (change.value === undefined) {
    return {
      key: change.key ?? rec.key,
      value: rec.value,
      eventTimeMs: change.eventTimeMs ?? rec.eventTimeMs,
      tags: change.tags ?? rec.tags,
      sourceId: change.sourceId ?? rec.sourceId,
      json: () => rec.json(),
    };
  }
  return makeRecord({
    key: change.key ?? rec.key,
    value: change.value ?? rec.value,
    eventTimeMs: change.eventTimeMs ?? rec.eventTimeMs,
    tags: change.tags ?? rec.tags,
    sourceId: change.sourceId ?? rec.sourceId,
  });
}
