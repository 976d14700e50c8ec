/**
 * Flo's workflow cron: 5 fields (minute hour day-of-month month day-of-week, Sunday 0 or 7),
 * evaluated in UTC, and a day matches only when both its day-of-month and its day-of-week fields
 * match (Flo's rule, not Vixie cron's "either"). Parsing and stepping are croner's.
 */
import { Cron } from 'croner';

/** A parsed cron expression. */
export interface CronSchedule {
  /** The first fire time strictly after `afterMs` (whole minutes), or undefined if none within croner's range. */
  next(afterMs: number): number | undefined;
}

/** Parses `expr`; throws an `Error` whose message says what is wrong. */
export function parseCron(expr: string): CronSchedule {
  const cron = new Cron(expr.trim(), { mode: '5-part', domAndDow: true, timezone: 'Etc/UTC', paused: true });
  return {
    next(afterMs) {
      return cron.nextRun(new Date(afterMs))?.getTime();
    },
  };
}
