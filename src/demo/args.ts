/** Options of `flo-rx demo` (kept apart from `main.ts` so they can be tested). */
import { flag, helpOf, parseFlags, type CommandSpec } from '../cli/flags.js';

export const DEFAULT_EVENTS = 2000;
const MAX_EVENTS = 1_000_000;

/** `flo-rx demo`: its flags (the parser and `--help` both read this table). */
export const DEMO_COMMAND = {
  name: 'demo',
  summary: 'Run the demo: an order pipeline (stream → consumer group → KV and a queue) on an embedded server',
  description: `Starts an embedded Flo server in-process and runs an order pipeline on it: a producer appends order
events to a stream, a consumer group folds them into KV projections and enqueues follow-up tasks,
a queue worker settles the tasks (some are retried, some land in the DLQ). Prints live progress,
then a summary verified against an in-memory expectation; exits 1 if the verification fails.
\`flo-rx demo --ui [ui options]\` is \`flo-rx ui\`.`,
  flags: {
    events: flag.integer('Order events to produce, 1 to 1000000', DEFAULT_EVENTS, 1, MAX_EVENTS),
    quiet: flag.boolean('No banner and no progress: only the summary', 'q'),
  },
} as const satisfies CommandSpec;

export const DEMO_USAGE = helpOf(DEMO_COMMAND);

export interface DemoOptions {
  readonly events: number;
  readonly quiet: boolean;
}

export type DemoArgs = { readonly kind: 'run'; readonly options: DemoOptions } | { readonly kind: 'help' } | { readonly kind: 'error'; readonly message: string };

export function parseDemoArgs(args: readonly string[]): DemoArgs {
  const parsed = parseFlags(DEMO_COMMAND, args);
  return parsed.kind === 'run' ? { kind: 'run', options: { events: parsed.values.events, quiet: parsed.values.quiet } } : parsed;
}
