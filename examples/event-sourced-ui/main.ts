/**
 * The event-sourced board in the browser: plain TypeScript and DOM. The board is a projection of
 * the `board` stream (replayed, then tailed over one WebSocket), buttons append events, and a badge
 * shows the connection state. Bundled with rxjs by `serve.ts`.
 */
import { animationFrameScheduler, auditTime, catchError, EMPTY, retry, Subject, timer } from 'rxjs';
import { connect, connectionStatus, formatStreamId, project, type ConnectionStatus, type ProjectionState } from '../../src/index.js';
import { addCard, boardReducer, BOARD_STREAM, cardsIn, COLUMN_TITLES, COLUMNS, emptyBoard, moveCard, neighbour, type Board, type Column } from './board.js';

function floUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get('flo');
  if (fromQuery) return fromQuery;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="flo-url"]')?.content;
  if (meta && !meta.startsWith('%')) return meta;
  return `ws://${location.hostname}:9000`;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const badge = $('badge');
const stats = $('stats');
const errorBox = $('error');
const boardEl = $('board');
const form = $<HTMLFormElement>('add-form');
const titleInput = $<HTMLInputElement>('title');

// Short backoff: a page should come back quickly once the server is there again.
const flo = connect(floUrl(), { timeoutMs: 5000, reconnect: { minTimeoutMs: 100, maxTimeoutMs: 1000 } });
const errors = new Subject<unknown>();

// ---- connection badge ---------------------------------------------------------------------------
connectionStatus(flo, { errors }).subscribe((s: ConnectionStatus) => {
  badge.dataset.state = s.state;
  badge.textContent = s.label;
  badge.title = s.lastError ? `last error: ${s.lastError}` : '';
});

// ---- the board ----------------------------------------------------------------------------------
const board$ = project(flo, BOARD_STREAM, { reducer: boardReducer, initial: emptyBoard });

board$
  .pipe(
    catchError((err: unknown) => {
      errors.next(err);
      showError(err);
      throw err;
    }),
    // A projection that failed for good (not a lost connection: that is retried inside) starts over.
    retry({ delay: () => timer(2000) }),
    // The projection emits once per record: render at most once per animation frame (a long replay
    // would otherwise redraw the board for every record).
    auditTime(0, animationFrameScheduler),
  )
  .subscribe((p) => render(p));

function render(p: ProjectionState<Board>): void {
  stats.dataset.status = p.status;
  stats.dataset.applied = String(p.applied);
  stats.textContent = `${p.status} · ${p.applied} events · last ${p.lastId ? formatStreamId(p.lastId) : '–'}`;
  const columns = COLUMNS.map((column) => renderColumn(p.state, column));
  boardEl.replaceChildren(...columns);
}

function renderColumn(board: Board, column: Column): HTMLElement {
  const section = el('section', { 'data-column': column });
  section.append(el('h2', {}, COLUMN_TITLES[column]));
  const list = el('ul');
  for (const card of cardsIn(board, column)) {
    const li = el('li', { 'data-card-id': card.id, 'data-title': card.title });
    const prev = neighbour(column, -1);
    const next = neighbour(column, 1);
    if (prev) li.append(el('button', { class: 'move', 'data-to': prev, title: `Move to ${COLUMN_TITLES[prev]}` }, '←'));
    li.append(el('span', { class: 'title' }, card.title));
    if (next) li.append(el('button', { class: 'move', 'data-to': next, title: `Move to ${COLUMN_TITLES[next]}` }, '→'));
    list.append(li);
  }
  section.append(list);
  return section;
}

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- writes -------------------------------------------------------------------------------------
function write(what: string, op: ReturnType<typeof addCard>): void {
  op.pipe(
    catchError((err: unknown) => {
      errors.next(err);
      showError(err, what);
      return EMPTY;
    }),
  ).subscribe(() => clearError());
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  const title = titleInput.value.trim() || `Card ${new Date().toLocaleTimeString()}`;
  titleInput.value = '';
  write('add card', addCard(flo, title));
});

boardEl.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.move');
  const cardId = button?.closest<HTMLElement>('li')?.dataset.cardId;
  const to = button?.dataset.to as Column | undefined;
  if (cardId && to) write('move card', moveCard(flo, cardId, to));
});

function showError(err: unknown, what?: string): void {
  const message = err instanceof Error ? err.message : String(err);
  errorBox.textContent = what ? `${what} failed: ${message}` : message;
}
function clearError(): void {
  errorBox.textContent = '';
}

// For tests and the console.
(globalThis as { flo?: unknown }).flo = flo;
