/**
 * The event-sourced board in the browser: plain TypeScript and DOM. The board is a projection of
 * the `board` stream (replayed, then tailed over one WebSocket); buttons append events; the page
 * shows the connection, the replay, the event log, resets and errors in words. Bundled with rxjs by
 * `serve.ts`.
 */
import {
  animationFrameScheduler,
  auditTime,
  catchError,
  combineLatest,
  distinctUntilChanged,
  EMPTY,
  filter,
  map,
  of,
  retry,
  shareReplay,
  startWith,
  switchMap,
  timer,
  type Observable,
} from 'rxjs';
import { connect, connectionStatus, project, type ConnectionStatus, type ProjectionState, type StreamId } from '../../src/index.js';
import { BOARD_STREAM, boardReducer, cardAdded, cardMoved, cardsIn, COLUMN_TITLES, COLUMNS, emptyBoard, neighbour, type Board, type BoardEvent, type Column } from './board.js';
import { clockTime, errorText, resetText, statusText } from './board-text.js';

function floUrl(): string {
  const fromQuery = new URLSearchParams(location.search).get('flo');
  if (fromQuery) return fromQuery;
  const meta = document.querySelector<HTMLMetaElement>('meta[name="flo-url"]')?.content;
  if (meta && !meta.startsWith('%')) return meta;
  return `ws://${location.hostname}:9000`;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const ui = {
  badge: $('badge'),
  statusbar: $('statusbar'),
  status: $('status'),
  progress: $('progress'),
  resetNotice: $('reset-notice'),
  error: $('error'),
  form: $<HTMLFormElement>('add-form'),
  title: $<HTMLInputElement>('title'),
  add: $<HTMLButtonElement>('add'),
  empty: $('empty'),
  board: $('board'),
  log: $('log'),
  logCount: $('log-count'),
};
$<HTMLAnchorElement>('second-tab').href = location.href;

const url = floUrl();
// Short backoff: a page should come back quickly once the server is there again.
const flo = connect(url, { timeoutMs: 5000, reconnect: { minTimeoutMs: 100, maxTimeoutMs: 1000 } });

const connection$ = connectionStatus(flo).pipe(shareReplay({ bufferSize: 1, refCount: true }));

const projection$: Observable<ProjectionState<Board>> = project(flo, BOARD_STREAM, { reducer: boardReducer, initial: emptyBoard }).pipe(
  catchError((err: unknown) => {
    // Not a lost connection (the projection rides those out itself): say so, start over soon.
    showError(errorText(err, 'read the board'));
    throw err;
  }),
  retry({ delay: () => timer(2000) }),
);

/** The stream's record count, read at each (re)connection: the replay's progress bar. */
const total$ = connection$.pipe(
  map((c) => c.online),
  distinctUntilChanged(),
  switchMap((online) =>
    online
      ? flo.stream.info(BOARD_STREAM).pipe(
          map((info) => Number(info.count)),
          catchError(() => of(undefined)),
        )
      : EMPTY,
  ),
  startWith(undefined),
);

// The projection emits once per record: render at most once per animation frame (a long replay
// would otherwise redraw the board for every record).
combineLatest([projection$, connection$, total$])
  .pipe(auditTime(0, animationFrameScheduler))
  .subscribe(([p, c, total]) => render(p, c, total));

// Errors belong to the moment: once the connection is back, an old one no longer applies.
connection$
  .pipe(
    map((c) => c.state),
    distinctUntilChanged(),
    filter((s, i) => s === 'connected' && i > 0),
  )
  .subscribe(() => clearError());

// ---- rendering ----------------------------------------------------------------------------------
let dismissedReset = 0;
let lastReset: ProjectionState<Board>['reset'] = null;

function render(p: ProjectionState<Board>, c: ConnectionStatus, total: number | undefined): void {
  ui.badge.dataset.state = c.state;
  ui.badge.textContent = c.label;

  ui.statusbar.dataset.status = p.status;
  ui.status.dataset.status = p.status;
  ui.status.dataset.applied = String(p.applied);
  ui.status.textContent = statusText(p, c, url, total);
  const showProgress = p.status === 'replaying' && c.online && total !== undefined && total > 0;
  ui.progress.hidden = !showProgress;
  if (showProgress) (ui.progress.firstElementChild as HTMLElement).style.width = `${Math.min(100, (100 * p.applied) / total!)}%`;

  lastReset = p.reset;
  const reset = p.reset && p.reset.nth > dismissedReset ? p.reset : null;
  ui.resetNotice.hidden = reset === null;
  if (reset) {
    ui.resetNotice.dataset.reason = reset.reason;
    ui.resetNotice.firstElementChild!.textContent = resetText(reset, p.applied);
  }

  ui.add.disabled = !c.online;
  ui.add.title = c.online ? '' : 'Waiting for the server';
  ui.empty.hidden = !(p.status === 'live' && p.state.order.length === 0);
  ui.board.replaceChildren(...COLUMNS.map((column) => renderColumn(p.state, column, c.online)));
  renderLog(p.state);
}

function renderColumn(board: Board, column: Column, online: boolean): HTMLElement {
  const cards = cardsIn(board, column);
  const section = el('section', { class: 'lane', 'data-column': column });
  const heading = el('h2', {}, COLUMN_TITLES[column]);
  heading.append(el('span', {}, String(cards.length)));
  section.append(heading);
  const list = el('ul');
  for (const card of cards) {
    const li = el('li', { 'data-card-id': card.id, 'data-title': card.title });
    const prev = neighbour(column, -1);
    const next = neighbour(column, 1);
    if (prev) li.append(moveButton(prev, '←', online));
    li.append(el('span', { class: 'title' }, card.title));
    if (card.moves > 0) li.append(el('span', { class: 'moves', title: 'times moved' }, `↔${card.moves}`));
    if (next) li.append(moveButton(next, '→', online));
    list.append(li);
  }
  section.append(list);
  return section;
}

function moveButton(to: Column, arrow: string, online: boolean): HTMLElement {
  const b = el('button', { type: 'button', class: 'move', 'data-to': to, title: `Move to ${COLUMN_TITLES[to]}`, 'aria-label': `Move to ${COLUMN_TITLES[to]}` }, arrow);
  (b as HTMLButtonElement).disabled = !online;
  return b;
}

function renderLog(board: Board): void {
  const shown = board.log.length;
  ui.logCount.textContent = shown === 0 ? 'no events yet' : `${shown === 50 ? 'last 50' : shown} · ${board.ignored} not understood`;
  ui.log.replaceChildren(
    ...board.log.map((entry) => {
      const li = el('li', { 'data-id': entry.id, 'data-type': entry.type, ...(entry.problem ? { class: 'bad' } : {}) });
      li.append(el('span', { class: 'type', 'data-type': entry.type }, entry.type));
      li.append(el('code', { class: 'payload' }, entry.payload));
      li.append(el('span', { class: 'meta' }, `${clockTime(entry.at)} · id ${entry.id}`));
      if (entry.problem) li.append(el('span', { class: 'problem' }, `not applied: ${entry.problem}`));
      return li;
    }),
  );
}

function el(tag: string, attrs: Record<string, string> = {}, text?: string): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function showError(message: string): void {
  ui.error.textContent = message;
  ui.error.hidden = false;
}
function clearError(): void {
  ui.error.textContent = '';
  ui.error.hidden = true;
}

// ---- writes -------------------------------------------------------------------------------------
function write(doing: string, event: BoardEvent): void {
  flo.stream
    .append(BOARD_STREAM, event)
    .pipe(
      catchError((err: unknown) => {
        showError(errorText(err, doing));
        return EMPTY;
      }),
    )
    .subscribe((_id: StreamId) => clearError());
}

ui.form.addEventListener('submit', (e) => {
  e.preventDefault();
  if (ui.add.disabled) return;
  const title = ui.title.value.trim() || `Card ${new Date().toLocaleTimeString()}`;
  ui.title.value = '';
  write('add the card', cardAdded(title));
});

ui.board.addEventListener('click', (e) => {
  const button = (e.target as HTMLElement).closest<HTMLButtonElement>('button.move');
  const cardId = button?.closest<HTMLElement>('li')?.dataset.cardId;
  const to = button?.dataset.to as Column | undefined;
  if (button && !button.disabled && cardId && to) write('move the card', cardMoved(cardId, to));
});

$('dismiss-reset').addEventListener('click', () => {
  dismissedReset = lastReset?.nth ?? dismissedReset;
  ui.resetNotice.hidden = true;
});

// For tests and the console.
(globalThis as { flo?: unknown }).flo = flo;
