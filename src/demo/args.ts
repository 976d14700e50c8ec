/** Options of `flo-rx demo` (kept apart from `main.ts` so they can be tested). */

export const DEMO_USAGE = `Usage: flo-rx demo [options]      (from the source tree: npm start -- [options])

Starts an embedded Flo server in-process and runs an order pipeline on it: a producer appends order
events to a stream, a consumer group folds them into KV projections and enqueues follow-up tasks,
a queue worker settles the tasks (some are retried, some land in the DLQ). Prints live progress,
then a summary verified against an in-memory expectation; exits 1 if the verification fails.

Options:
  --events <n>   Order events to produce, 1 to 1000000 [default: 2000]
  --quiet        No banner and no progress: only the summary
  -h, --help     Show this help
`;

export interface DemoOptions {
  readonly events: number;
  readonly quiet: boolean;
}

export type DemoArgs = { readonly kind: 'run'; readonly options: DemoOptions } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string };

export const DEFAULT_EVENTS = 2000;
const MAX_EVENTS = 1_000_000;

export function parseDemoArgs(args: readonly string[]): DemoArgs {
  let events = DEFAULT_EVENTS;
  let quiet = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    switch (name) {
      case '--events': {
        const v = inline ?? args[++i];
        const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
        if (!Number.isSafeInteger(n) || n < 1 || n > MAX_EVENTS) {
          return { kind: 'error', message: `--events needs a number from 1 to ${MAX_EVENTS}, got ${v ?? 'nothing'}` };
        }
        events = n;
        break;
      }
      case '--quiet':
      case '-q':
        if (inline !== undefined) return { kind: 'error', message: '--quiet takes no value' };
        quiet = true;
        break;
      default:
        return { kind: 'error', message: `unknown option for demo: ${arg}` };
    }
  }
  return { kind: 'run', options: { events, quiet } };
}
