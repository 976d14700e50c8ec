/**
 * The board's domain: events, the folded state and its reducer. Shared by the plain-DOM page
 * (`main.ts`), the Angular app (`examples/angular/`) and the tests. No imports at all, so any app
 * (whatever its copy of rxjs or flo-rx) can compile it.
 */

/** The stream the board is folded from. */
export const BOARD_STREAM = 'board';

/** The board's columns, left to right. */
export const COLUMNS = ['todo', 'doing', 'done'] as const;
/** A column id. */
export type Column = (typeof COLUMNS)[number];
/** Column headings. */
export const COLUMN_TITLES: Record<Column, string> = { todo: 'To do', doing: 'Doing', done: 'Done' };

/** What the board stream holds (as JSON). */
export type BoardEvent =
  | { readonly type: 'card-added'; readonly cardId: string; readonly title: string; readonly column?: Column }
  | { readonly type: 'card-moved'; readonly cardId: string; readonly to: Column };

/** A card as folded from its events. */
export interface Card {
  readonly id: string;
  readonly title: string;
  readonly column: Column;
  /** How many times it moved. */
  readonly moves: number;
}

/** One line of the event log: a record of the stream as the board understood it. */
export interface LogEntry {
  /** The record's stream id, `ms-seq`. */
  readonly id: string;
  /** When it was appended (ms since the epoch: the id's time part). */
  readonly at: number;
  /** The event type, or `'malformed'`. */
  readonly type: string;
  /** The payload as compact JSON without its `type` (cut at 120 characters). */
  readonly payload: string;
  /** Why it was not applied; absent when it was. */
  readonly problem?: string;
}

/** The folded board. */
export interface Board {
  /** Cards by id. */
  readonly cards: Readonly<Record<string, Card>>;
  /** Card ids in the order they were added. */
  readonly order: readonly string[];
  /** The newest `LOG_SIZE` records, newest first. */
  readonly log: readonly LogEntry[];
  /** Records that were not understood (bad JSON, unknown type, unknown card): counted and logged, not fatal. */
  readonly ignored: number;
}

/** How many records the event log keeps. */
export const LOG_SIZE = 50;

/** The board before any event. */
export const emptyBoard: Board = { cards: {}, order: [], log: [], ignored: 0 };

/** What the reducer reads of a record (a flo-rx `StreamRecord` is one). */
export interface BoardRecord {
  readonly id: { readonly timestampMs: bigint; readonly sequence: bigint };
  readonly payload: Uint8Array;
  data<T = unknown>(): T;
}

const isColumn = (c: unknown): c is Column => typeof c === 'string' && (COLUMNS as readonly string[]).includes(c);
const text = new TextDecoder();

function logEntry(record: BoardRecord, type: string, payload: unknown, problem?: string): LogEntry {
  let json: string;
  try {
    const fields = payload && typeof payload === 'object' && !Array.isArray(payload) ? { ...(payload as Record<string, unknown>), type: undefined } : payload;
    json = payload === undefined ? text.decode(record.payload) : (JSON.stringify(fields) ?? String(payload));
  } catch {
    json = '(binary)';
  }
  if (json.length > 120) json = `${json.slice(0, 119)}…`;
  return {
    id: `${record.id.timestampMs}-${record.id.sequence}`,
    at: Number(record.id.timestampMs),
    type,
    payload: json,
    ...(problem !== undefined ? { problem } : {}),
  };
}

const withLog = (board: Board, entry: LogEntry, ignored = false): Board => ({
  ...board,
  log: [entry, ...board.log.slice(0, LOG_SIZE - 1)],
  ignored: board.ignored + (ignored ? 1 : 0),
});

/** Folds one record of the board stream. Pure: returns a new board, never mutates the old one. */
export function boardReducer(board: Board, record: BoardRecord): Board {
  let event: BoardEvent;
  try {
    event = record.data<BoardEvent>();
  } catch {
    return withLog(board, logEntry(record, 'malformed', undefined, 'not JSON'), true);
  }
  const type = event && typeof event === 'object' && typeof event.type === 'string' ? event.type : 'malformed';
  const reject = (problem: string) => withLog(board, logEntry(record, type, event, problem), true);
  if (type === 'card-added') {
    const e = event as Extract<BoardEvent, { type: 'card-added' }>;
    if (typeof e.cardId !== 'string' || typeof e.title !== 'string') return reject('cardId and title must be strings');
    if (board.cards[e.cardId]) return reject(`card ${e.cardId} already exists`);
    const card: Card = { id: e.cardId, title: e.title, column: isColumn(e.column) ? e.column : 'todo', moves: 0 };
    return withLog({ ...board, cards: { ...board.cards, [card.id]: card }, order: [...board.order, card.id] }, logEntry(record, type, event));
  }
  if (type === 'card-moved') {
    const e = event as Extract<BoardEvent, { type: 'card-moved' }>;
    if (typeof e.cardId !== 'string' || !isColumn(e.to)) return reject(`needs a cardId and a column (${COLUMNS.join(', ')})`);
    const card = board.cards[e.cardId];
    if (!card) return reject(`no card ${e.cardId}`);
    return withLog({ ...board, cards: { ...board.cards, [card.id]: { ...card, column: e.to, moves: card.moves + 1 } } }, logEntry(record, type, event));
  }
  return reject(type === 'malformed' ? 'not an event object' : `unknown event type "${type}"`);
}

/** The cards of one column, in the order they were added. */
export function cardsIn(board: Board, column: Column): Card[] {
  return board.order.map((id) => board.cards[id]).filter((c): c is Card => c !== undefined && c.column === column);
}

/** The column after (`+1`) or before (`-1`) `column`, if any. */
export function neighbour(column: Column, step: 1 | -1): Column | undefined {
  return COLUMNS[COLUMNS.indexOf(column) + step];
}

/** A fresh card id (no secure context needed, unlike `crypto.randomUUID`). */
export function newCardId(): string {
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

/** A `card-added` event (append it with `flo.stream.append(BOARD_STREAM, cardAdded(...))`). */
export const cardAdded = (title: string, column: Column = 'todo', cardId: string = newCardId()): BoardEvent => ({ type: 'card-added', cardId, title, column });
/** A `card-moved` event. */
export const cardMoved = (cardId: string, to: Column): BoardEvent => ({ type: 'card-moved', cardId, to });
