/**
 * The event-sourced board the Angular way: a `FloBoardService` that turns flo-rx Observables into
 * signals, with Angular owning the lifetimes.
 *
 * - The `FloClient` comes from DI: `inject(FLO_CLIENT)` (an `InjectionToken`), provided once for the
 *   app with `provideFloClient(() => connect('ws://…'))` — the client is closed when its injector is
 *   destroyed.
 * - `board` and `connection` are `toSignal(...)` of `project(...)` and `connectionStatus(...)`:
 *   `toSignal` subscribes in the injection context and unsubscribes when the injector (or the
 *   component that owns the service) is destroyed, which stops the shared projection's tail.
 * - `errors` is fed by a subscription torn down with `takeUntilDestroyed(inject(DestroyRef))`.
 *
 * Why no `@Injectable()` decorator: a decorated class needs Angular's compiler — AOT (the Angular
 * CLI / `ngc`) or, without it, the JIT compiler (`@angular/compiler`) at run time. This example is
 * type-checked by plain `tsc` and run by vitest in Node with `@angular/core` alone, so it is
 * provided with a factory provider instead (`provideFloBoard()`): the class uses only `inject()` in
 * its field initializers, which works in any injection context. In an Angular CLI app you may add
 * `@Injectable({ providedIn: 'root' })` to the class and drop the provider; nothing else changes.
 */
import { DestroyRef, inject, InjectionToken, signal, type Provider, type Signal } from '@angular/core';
import { takeUntilDestroyed, toSignal } from '@angular/core/rxjs-interop';
import { catchError, EMPTY, firstValueFrom, map, Subject } from 'rxjs';
import {
  connectionStatus,
  project,
  type ConnectionStatus,
  type FloClient,
  type ProjectionState,
  type StreamId,
} from '../../src/index.js';
import { addCard, boardReducer, BOARD_STREAM, cardsIn, COLUMNS, emptyBoard, moveCard, type Board, type Card, type Column } from '../event-sourced-ui/board.js';

/** The app's `FloClient`. */
export const FLO_CLIENT = new InjectionToken<FloClient>('flo-rx FloClient');

/** The stream the board is folded from. Default `'board'`. */
export const FLO_BOARD_STREAM = new InjectionToken<string>('flo-rx board stream', { factory: () => BOARD_STREAM });

/** Provides `FLO_CLIENT` from a factory, and closes the client when the injector is destroyed. */
export function provideFloClient(create: () => FloClient): Provider[] {
  return [
    {
      provide: FLO_CLIENT,
      useFactory: () => {
        const flo = create();
        inject(DestroyRef).onDestroy(() => void flo.close());
        return flo;
      },
    },
  ];
}

/** Provides `FloBoardService` (a factory provider: see the file comment for why no decorator). */
export function provideFloBoard(): Provider[] {
  return [{ provide: FloBoardService, useFactory: () => new FloBoardService() }];
}

const initialStatus: ConnectionStatus = { state: 'idle', label: 'Not connected', online: false, lastError: null, reconnects: 0, since: 0 };
const initialProjection: ProjectionState<Board> = { state: emptyBoard, lastId: null, applied: 0, status: 'replaying' };

export class FloBoardService {
  private readonly flo = inject(FLO_CLIENT);
  private readonly stream = inject(FLO_BOARD_STREAM);
  private readonly destroyRef = inject(DestroyRef);
  private readonly failures = new Subject<unknown>();

  /** The shared projection (replay, then live), as an Observable for those who want one. */
  readonly projection$ = project(this.flo, this.stream, { reducer: boardReducer, initial: emptyBoard });

  /** The whole projection: board, last id, count, `'replaying' | 'live'`. */
  readonly projection: Signal<ProjectionState<Board>> = toSignal(
    this.projection$.pipe(
      catchError((err: unknown) => {
        this.failures.next(err);
        return EMPTY;
      }),
    ),
    { initialValue: initialProjection },
  );

  /** The board alone. */
  readonly board: Signal<Board> = toSignal(this.projection$.pipe(map((p) => p.state), catchError(() => EMPTY)), { initialValue: emptyBoard });

  /** The connection as a badge shows it, with the last error (lost connection, failed write, ...). */
  readonly connection: Signal<ConnectionStatus> = toSignal(connectionStatus(this.flo, { errors: this.failures }), { initialValue: initialStatus });

  /** The last error message, or null. */
  readonly lastError = signal<string | null>(null);

  constructor() {
    this.failures.pipe(takeUntilDestroyed(this.destroyRef)).subscribe((err) => this.lastError.set(err instanceof Error ? err.message : String(err)));
    this.destroyRef.onDestroy(() => this.failures.complete());
  }

  /** The cards of each column (compute it in a `computed()` in a component). */
  columns(board: Board = this.board()): { column: Column; cards: Card[] }[] {
    return COLUMNS.map((column) => ({ column, cards: cardsIn(board, column) }));
  }

  /** Appends a `card-added`; resolves with its id (a failure also goes to `lastError`). */
  add(title: string, column: Column = 'todo', cardId?: string): Promise<StreamId> {
    return this.write(addCard(this.flo, title, column, cardId, this.stream));
  }

  /** Appends a `card-moved`. */
  move(cardId: string, to: Column): Promise<StreamId> {
    return this.write(moveCard(this.flo, cardId, to, this.stream));
  }

  private async write(op: ReturnType<typeof addCard>): Promise<StreamId> {
    try {
      return await firstValueFrom(op.pipe(takeUntilDestroyed(this.destroyRef)));
    } catch (err) {
      this.failures.next(err);
      throw err;
    }
  }
}
