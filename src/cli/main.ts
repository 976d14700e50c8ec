/**
 * The `flo-rx` command: `serve` runs the embedded server in the foreground, `demo` runs the demo
 * program, `ui` serves the event-sourced board page next to an embedded server. One parser
 * (`flags.ts`) reads every command's flag table (`commands.ts`).
 */
import { SERVE_COMMAND, UI_COMMAND, parseCommandLine, usage } from './commands.js';
import { CliError } from './errors.js';
import { helpOf, parseFlags, type CommandSpec } from './flags.js';
import { packageVersion } from './version.js';

function usageError(message: string, help: string): void {
  process.stderr.write(`flo-rx: ${message}\n\n${help}`);
  process.exitCode = 2;
}

async function run(command: CommandSpec, args: readonly string[]): Promise<void> {
  if (command.name === 'demo') {
    // The demo parses its own flags (it also runs as a function in tests); loaded only when asked for.
    const { main: runDemo } = await import('../demo/main.js');
    const result = await runDemo(args);
    process.exitCode = result.exitCode;
    // The client and the server are closed; should anything still hold the event loop, exit anyway.
    setTimeout(() => process.exit(result.exitCode), 2000).unref();
    return;
  }
  if (command === SERVE_COMMAND) {
    const parsed = parseFlags(SERVE_COMMAND, args);
    if (parsed.kind === 'help') return void process.stdout.write(helpOf(command));
    if (parsed.kind === 'error') return usageError(parsed.message, helpOf(command));
    const { runServe } = await import('./serve.js');
    return runServe(parsed.values);
  }
  if (command === UI_COMMAND) {
    const parsed = parseFlags(UI_COMMAND, args);
    if (parsed.kind === 'help') return void process.stdout.write(helpOf(command));
    if (parsed.kind === 'error') return usageError(parsed.message, helpOf(command));
    const { runUi } = await import('./ui.js');
    return runUi(parsed.values);
  }
}

async function main(argv: readonly string[]): Promise<void> {
  const line = parseCommandLine(argv);
  switch (line.kind) {
    case 'help':
      process.stdout.write(line.command ? helpOf(line.command) : usage());
      return;
    case 'version':
      console.log(packageVersion());
      return;
    case 'error':
      return usageError(line.message, usage());
    case 'run':
      return run(line.command, line.args);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // Errors a user can fix are one line; anything else is a bug, shown with its stack.
  console.error(err instanceof CliError ? `flo-rx: ${err.message}` : `flo-rx: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
});
