/** The demo's live progress indicator, as an Observable that never emits: subscribe to show it, unsubscribe to stop. */
import { defer, finalize, ignoreElements, interval, tap, type Observable } from 'rxjs';

/** Where the demo writes: `process.stdout` by default, a buffer in tests. */
export interface DemoOutput {
  write(text: string): unknown;
  /** A terminal: one live line rewritten in place. Otherwise plain lines, `plainEveryMs` apart. */
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** Redraw period on a TTY. Default 100 ms. */
  readonly ttyEveryMs?: number;
  /** Period of the plain lines when not a TTY. Default 1000 ms. */
  readonly plainEveryMs?: number;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * On a TTY, rewrites one line (`render()`, cut to the terminal width) every `ttyEveryMs` and clears
 * it on unsubscribe; elsewhere prints `progress: <render()>` every `plainEveryMs`.
 */
export function progressIndicator(out: DemoOutput, render: () => string, options: ProgressOptions = {}): Observable<never> {
  return defer(() => {
    if (out.isTTY) {
      const width = Math.max(20, (out.columns || 100) - 1);
      const draw = () => {
        const line = render();
        out.write(CLEAR_LINE + (line.length > width ? `${line.slice(0, width - 1)}…` : line));
      };
      draw();
      return interval(options.ttyEveryMs ?? 100).pipe(
        tap(draw),
        ignoreElements(),
        finalize(() => out.write(CLEAR_LINE)),
      );
    }
    return interval(options.plainEveryMs ?? 1000).pipe(
      tap(() => out.write(`progress: ${render()}\n`)),
      ignoreElements(),
    );
  });
}
