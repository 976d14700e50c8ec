/**
 * The event-sourced board as Angular signals. The board is `project()` of the board stream over the
 * app's `FloClient`; the connection is `connectionStatus()`; both subscriptions end with the
 * service's injector. Errors are shown (`error`), never swallowed, and cleared once the connection
 * is back or the next write succeeds. In server rendering (no client) nothing is opened and the
 * signals keep their initial values.
 */
import { computed, DestroyRef, inject, Injectable, InjectionToken, signal } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { distinctUntilChanged, filter, firstValueFrom, map, retry, timer, type Observable } from 'rxjs';
import { connectionStatus, project, type ConnectionStatus, type ProjectionState, type StreamId } from 'flo-rx';
import { BOARD_STREAM, boardReducer, cardAdded, cardMoved, cardsIn, COLUMNS, emptyBoard, type Board, type BoardEvent, type Card, type Column } from '../../../event-sourced-ui/board';
import { errorText, resetText, statusText } from '../../../event-sourced-ui/board-text';
import { FLO_CLIENT, FLO_URL } from './flo.providers';

/** The stream the board is folded from. Default `'board'`. */
export const FLO_BOARD_STREAM = new InjectionToken<string>('flo-rx board stream', { factory: () => BOARD_STREAM });

const initialConnection: ConnectionStatus = { state: 'idle', label: 'Not connected', online: false, lastError: null, reconnects: 0, since: 0 };
const initialProjection: ProjectionState<Board> = { state: emptyBoard, lastId: null, applied: 0, status: 'replaying', reset: null };

/** The board's state and writes as signals and promises, for components (`inject(FloBoardService)`). */
@Injectable({ providedIn: 'root' })
export class FloBoardService {
  private readonly flo = inject(FLO_CLIENT);
  private readonly stream = inject(FLO_BOARD_STREAM);
  private readonly destroyRef = inject(DestroyRef);
  /** The server URL, for the status line. */
  readonly url = inject(FLO_URL);

  /** The whole projection: board, last id, count, status, latest reset. */
  readonly projection = signal<ProjectionState<Board>>(initialProjection);
  /** The connection as a badge shows it. */
  readonly connection = signal<ConnectionStatus>(initialConnection);
  /** What went wrong last, in words; `null` once it no longer applies. */
  readonly error = signal<string | null>(null);
  /** The stream's record count at the last (re)connection: the replay's progress. */
  readonly total = signal<number | undefined>(undefined);

  readonly board = computed(() => this.projection().state);
  readonly online = computed(() => this.connection().online);
  readonly columns = computed((): { column: Column; cards: Card[] }[] => COLUMNS.map((column) => ({ column, cards: cardsIn(this.board(), column) })));
  readonly status = computed(() => statusText(this.projection(), this.connection(), this.url, this.total()));
  /** The reset notice to show (until dismissed), or `null`. */
  readonly resetNotice = computed(() => {
    const p = this.projection();
    return p.reset && p.reset.nth > this.dismissedReset() ? { reason: p.reset.reason, text: resetText(p.reset, p.applied) } : null;
  });
  private readonly dismissedReset = signal(0);

  constructor() {
    const flo = this.flo;
    if (!flo) return; // server rendering: no connection, nothing to fold

    project(flo, this.stream, { reducer: boardReducer, initial: emptyBoard })
      .pipe(
        // A lost connection is ridden out inside project(); anything else is shown, then retried.
        retry({
          delay: (err: unknown) => {
            this.error.set(errorText(err, 'read the board'));
            return timer(2000);
          },
        }),
        takeUntilDestroyed(this.destroyRef),
      )
      .subscribe((p) => this.projection.set(p));

    const connection$ = connectionStatus(flo).pipe(takeUntilDestroyed(this.destroyRef));
    connection$.subscribe((c) => this.connection.set(c));
    // Back online: an old error no longer applies, and the replay's total is read again.
    connection$
      .pipe(
        map((c) => c.state),
        distinctUntilChanged(),
        filter((s) => s === 'connected'),
      )
      .subscribe(() => {
        this.error.set(null);
        flo.stream.info(this.stream).pipe(takeUntilDestroyed(this.destroyRef)).subscribe({
          next: (info) => this.total.set(Number(info.count)),
          error: () => this.total.set(undefined),
        });
      });
  }

  /** Appends a `card-added`; resolves with its id. A failure is shown in `error`, and rejects. */
  add(title: string, column: Column = 'todo'): Promise<StreamId> {
    return this.write('add the card', cardAdded(title, column));
  }

  /** Appends a `card-moved`. */
  move(cardId: string, to: Column): Promise<StreamId> {
    return this.write('move the card', cardMoved(cardId, to));
  }

  /** Hides the current reset notice. */
  dismissReset(): void {
    this.dismissedReset.set(this.projection().reset?.nth ?? 0);
  }

  private async write(doing: string, event: BoardEvent): Promise<StreamId> {
    if (!this.flo) throw new Error('flo-rx: no client (not in a browser)');
    const append$: Observable<StreamId> = this.flo.stream.append(this.stream, event);
    try {
      const id = await firstValueFrom(append$.pipe(takeUntilDestroyed(this.destroyRef)));
      this.error.set(null);
      return id;
    } catch (err) {
      this.error.set(errorText(err, doing));
      throw err;
    }
  }
}
