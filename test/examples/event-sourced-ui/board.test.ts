/**
 * The board example's domain and words (examples/event-sourced-ui/board.ts, board-text.ts), shared
 * by the DOM page and the Angular app: the reducer (pure, bounded event log, bad records logged and
 * counted, never fatal) and the texts (no protocol words in errors, the URL while connecting).
 */
import { describe, expect, it } from 'vitest';
import { ClientClosedError, ConnectionLostError, OverloadedError, TimeoutError } from '../../../src/protocol/errors.js';
import { Status } from '../../../src/protocol/status.js';
import { boardReducer, cardAdded, cardMoved, cardsIn, emptyBoard, LOG_SIZE, type Board, type BoardRecord } from '../../../examples/event-sourced-ui/board.js';
import { errorText, resetText, statusText } from '../../../examples/event-sourced-ui/board-text.js';

const enc = new TextEncoder();
let seq = 0;
/** A record as a flo-rx client gives it: JSON payload, `data()` parses it (and throws on bad JSON). */
function record(payload: unknown, raw?: string): BoardRecord {
  const bytes = enc.encode(raw ?? JSON.stringify(payload));
  const id = { timestampMs: 1_700_000_000_000n, sequence: BigInt(seq++) };
  return { id, payload: bytes, data: <T>() => JSON.parse(new TextDecoder().decode(bytes)) as T };
}
const fold = (...records: BoardRecord[]): Board => records.reduce(boardReducer, emptyBoard);

describe('boardReducer', () => {
  it('adds and moves cards, logs each record newest first, and never mutates the board it was given', () => {
    const b1 = fold(record(cardAdded('A', 'todo', 'a')), record(cardAdded('B', 'doing', 'b')));
    const frozen = JSON.stringify(b1);
    const b2 = boardReducer(b1, record(cardMoved('a', 'done')));
    expect(JSON.stringify(b1)).toBe(frozen);
    expect(cardsIn(b2, 'done').map((c) => [c.id, c.moves])).toEqual([['a', 1]]);
    expect(cardsIn(b2, 'doing').map((c) => c.id)).toEqual(['b']);
    expect(b2.log.map((e) => e.type)).toEqual(['card-moved', 'card-added', 'card-added']);
    expect(b2.log[0]).toMatchObject({ payload: '{"cardId":"a","to":"done"}', at: 1_700_000_000_000 });
    expect(b2.log[0]!.id).toMatch(/^1700000000000-\d+$/);
    expect(b2.log[0]!.problem).toBeUndefined();
    expect(b2.ignored).toBe(0);
  });

  it('logs and counts what it cannot apply, with the reason, and goes on', () => {
    const b = fold(
      record(undefined, '{not json'),
      record({ type: 'card-exploded' }),
      record(42),
      record(cardMoved('ghost', 'done')),
      record(cardAdded('A', 'todo', 'a')),
      record(cardAdded('A again', 'todo', 'a')),
      record({ type: 'card-moved', cardId: 'a', to: 'nowhere' }),
    );
    expect(b.order).toEqual(['a']);
    expect(b.ignored).toBe(6);
    expect(b.log.map((e) => [e.type, e.problem])).toEqual([
      ['card-moved', 'needs a cardId and a column (todo, doing, done)'],
      ['card-added', 'card a already exists'],
      ['card-added', undefined],
      ['card-moved', 'no card ghost'],
      ['malformed', 'not an event object'],
      ['card-exploded', 'unknown event type "card-exploded"'],
      ['malformed', 'not JSON'],
    ]);
    expect(b.log.at(-1)!.payload).toBe('{not json');
  });

  it(`keeps only the newest ${LOG_SIZE} records in the log`, () => {
    let b = emptyBoard;
    for (let i = 0; i < LOG_SIZE + 10; i++) b = boardReducer(b, record(cardAdded(`card ${i}`, 'todo', `c${i}`)));
    expect(b.order).toHaveLength(LOG_SIZE + 10);
    expect(b.log).toHaveLength(LOG_SIZE);
    expect(b.log[0]!.payload).toContain(`"card ${LOG_SIZE + 9}"`);
    expect(b.log.at(-1)!.payload).toContain('"card 10"');
  });
});

describe('board texts', () => {
  const url = 'ws://127.0.0.1:9000';
  const live = { status: 'live' as const, applied: 3, reset: null };

  it('says what the board is doing, with the URL while connecting or unreachable', () => {
    expect(statusText(live, { state: 'connecting' }, url)).toBe('Connecting to ws://127.0.0.1:9000…');
    expect(statusText({ ...live, status: 'stale' }, { state: 'reconnecting' }, url)).toBe(
      'Server unreachable at ws://127.0.0.1:9000; retrying. Showing the last board seen (3 events).',
    );
    expect(statusText({ ...live, status: 'stale' }, { state: 'connected' }, url)).toBe('The server did not answer; retrying. Showing the last board seen (3 events).');
    expect(statusText({ ...live, status: 'replaying', applied: 40 }, { state: 'connected' }, url, 120)).toBe('Replaying 40 of 120 events…');
    expect(statusText({ ...live, applied: 1 }, { state: 'connected' }, url)).toBe('Live · 1 event folded');
  });

  it('explains errors without protocol words', () => {
    expect(errorText(new TimeoutError('flo: stream_append request timed out after 5000 ms'), 'add the card')).toBe(
      'Could not add the card: the server did not answer in time.',
    );
    expect(errorText(new ConnectionLostError('socket closed'), 'move the card')).toBe('Could not move the card: the connection to the server was lost.');
    expect(errorText(new ClientClosedError('closed'))).toBe('the connection is closed. Reload the page.');
    expect(errorText(new OverloadedError(Status.Overloaded, 'queue full'), 'add the card')).toMatch(/server is busy/);
  });

  it('says what a reset dropped and what the board is now', () => {
    expect(resetText({ reason: 'missing', previousApplied: 8, nth: 1 }, 0)).toMatch(/gone from the server.*8 events shown before were dropped.*\(0 events\)/);
    expect(resetText({ reason: 'trimmed', previousApplied: 1, nth: 2 }, 3)).toMatch(/no longer on the server.*1 event shown before.*\(3 events\)/);
    expect(resetText({ reason: 'shorter', previousApplied: 5, nth: 1 }, 2)).toMatch(/shorter than what this page had folded/);
  });
});
