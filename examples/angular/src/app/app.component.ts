/** The board page: a standalone component over `FloBoardService`'s signals (zoneless, OnPush). */
import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { clockTime } from '../../../event-sourced-ui/board-text';
import { COLUMN_TITLES, neighbour, type Column } from '../../../event-sourced-ui/board';
import { FloBoardService } from './flo-board.service';

@Component({
  selector: 'app-root',
  templateUrl: './app.component.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AppComponent {
  protected readonly board = inject(FloBoardService);
  protected readonly titles = COLUMN_TITLES;
  protected readonly clockTime = clockTime;
  protected readonly empty = computed(() => this.board.projection().status === 'live' && this.board.board().order.length === 0);
  protected readonly progress = computed(() => {
    const p = this.board.projection();
    const total = this.board.total();
    return p.status === 'replaying' && this.board.online() && total ? Math.min(100, (100 * p.applied) / total) : null;
  });

  protected prev(column: Column): Column | undefined {
    return neighbour(column, -1);
  }
  protected next(column: Column): Column | undefined {
    return neighbour(column, 1);
  }

  protected add(input: HTMLInputElement, event: Event): void {
    event.preventDefault();
    if (!this.board.online()) return;
    const title = input.value.trim() || `Card ${new Date().toLocaleTimeString()}`;
    input.value = '';
    this.board.add(title).catch(() => undefined); // shown in board.error()
  }

  protected move(cardId: string, to: Column): void {
    this.board.move(cardId, to).catch(() => undefined); // shown in board.error()
  }
}
