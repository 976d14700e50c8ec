/** A log line of the long-running commands: an ISO timestamp, then the text. */
export const logLine = (line: string): void => console.log(`${new Date().toISOString()} ${line}`);

/** Runs `stop` on the first SIGINT/SIGTERM (then exits 0, or 1 if it fails); a second signal exits at once. */
export function stopOnSignals(stop: () => Promise<void>, log: (line: string) => void = logLine): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: shutting down`);
    stop().then(
      () => {
        log('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        console.error(`flo-rx: error while stopping: ${(err as Error)?.message ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
