/**
 * The board's domain: events, the folded state and its reducer, and the writes. Shared by the
 * plain-DOM page (`main.ts`), the Angular service (`examples/angular/`) and the tests. Universal.
 */
import type { Observable } from 'rxjs';
import type { ProjectionRecord, StreamId } from '../../src/index.js';

export const BOARD_STREAM = 'board';

export const COLUMNS = ['todo', 'doing', 'done'] as const;
export type Column = (typeof COLUMNS)[number];
export const COLUMN_TITLES: Record<Column, string> = { todo: 'To do', doing: 'Doing', done: 'Done' };

export type BoardEvent =
  | { readonly type: 'card-added'; readonly cardId: string; readonly title: string; readonly column?: Column }
  | { readonly type: 'card-moved'; readonly cardId: string; readonly to: Column };

export interface Card {
  readonly id: string;
  readonly title: string;
  readonly column: Column;
  /** How many times it moved. */
  readonly moves: number;
}

export interface Board {
  /** Cards by id. */
  readonly cards: Readonly<Record<string, Card>>;
  /** Card ids in the order they were added. */
  readonly order: readonly string[];
  /** Events that were not understood (bad JSON, unknown type, unknown card): counted, not fatal. */
  readonly ignored: number;
}

export const emptyBoard: Board = { cards: {}, order: [], ignored: 0 };

const isColumn = (c: unknown): c is Column => typeof c === 'string' && (COLUMNS as readonly string[]).includes(c);

/** Folds one record of the board stream. Pure: returns a new board, never mutates the old one. */
export function boardReducer(board: Board, record: ProjectionRecord): Board {
  let event: BoardEvent;
  try {
    event = record.data<BoardEvent>();
  } catch {
    return { ...board, ignored: board.ignored + 1 };
  }
  if (event && event.type === 'card-added' && typeof event.cardId === 'string' && typeof event.title === 'string') {
    if (board.cards[event.cardId]) return { ...board, ignored: board.ignored + 1 };
    const card: Card = { id: event.cardId, title: event.title, column: isColumn(event.column) ? event.column : 'todo', moves: 0 };
    return { ...board, cards: { ...board.cards, [card.id]: card }, order: [...board.order, card.id] };
  }
  if (event && event.type === 'card-moved' && typeof event.cardId === 'string' && isColumn(event.to)) {
    const card = board.cards[event.cardId];
    if (!card) return { ...board, ignored: board.ignored + 1 };
    return { ...board, cards: { ...board.cards, [card.id]: { ...card, column: event.to, moves: card.moves + 1 } } };
  }
  return { ...board, ignored: board.ignored + 1 };
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

/** The writes need only `stream.append`. */
export interface BoardWriter {
  readonly stream: { append(stream: string, payload: unknown): Observable<StreamId> };
}

export const cardAdded = (title: string, column: Column = 'todo', cardId: string = newCardId()): BoardEvent => ({ type: 'card-added', cardId, title, column });
export const cardMoved = (cardId: string, to: Column): BoardEvent => ({ type: 'card-moved', cardId, to });

/** Appends a `card-added` to the board stream (`stream`: another board's). */
export function addCard(flo: BoardWriter, title: string, column: Column = 'todo', cardId?: string, stream = BOARD_STREAM): Observable<StreamId> {
  return flo.stream.append(stream, cardAdded(title, column, cardId));
}

/** Appends a `card-moved` to the board stream. */
export function moveCard(flo: BoardWriter, cardId: string, to: Column, stream = BOARD_STREAM): Observable<StreamId> {
  return flo.stream.append(stream, cardMoved(cardId, to));
}
