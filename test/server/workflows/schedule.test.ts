import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fromUtf8, Status } from '../../../src/protocol/index.js';
import { startProducers, waitingWorkflow, type Producers } from './producer-fixtures.js';

const MINUTE = 60_000;
let f: Producers;
beforeEach(async () => (f = await startProducers()));
afterEach(async () => f.close());

describe('workflow schedules', () => {
  it('an interval schedule starts a run every interval, with version latest, its input and schedule_started', async () => {
    await f.createOk('tick', waitingWorkflow('tick', 'schedule:\n  interval: 1000\n  maxConcurrent: 10\n  input: \'{"from":"schedule"}\'\n'));
    await f.advance(999);
    expect(await f.runs('tick')).toEqual([]);
    await f.advance(1);
    await f.advance(1000);
    const runs = await f.runs('tick');
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ status: 'waiting', version: 'latest', input: '{"from":"schedule"}', firstEvent: 'schedule_started:{"from":"schedule"}' });
  });

  it('a cron schedule fires on its minute boundaries (UTC), input {} by default', async () => {
    // ManualClock starts at 2026-01-01T00:00:00Z; "*/15 * * * *" fires at :15, :30, ...
    await f.createOk('cron', waitingWorkflow('cron', 'schedule:\n  cron: "*/15 * * * *"\n  max_concurrent: 5\n'));
    await f.advance(15 * MINUTE - 1);
    expect(await f.runs('cron')).toEqual([]);
    await f.advance(1);
    expect((await f.runs('cron')).map((r) => r.input)).toEqual(['{}']);
    await f.advance(14 * MINUTE);
    expect(await f.runs('cron')).toHaveLength(1);
    await f.advance(MINUTE);
    expect(await f.runs('cron')).toHaveLength(2);
  });

  it('cron matches a day only when both day-of-month and day-of-week match', async () => {
    // 2026-01-01 is a Thursday; "0 0 2 * 5" = the 2nd of a month that is a Friday → 2026-01-02.
    await f.createOk('both', waitingWorkflow('both', 'schedule:\n  cron: "0 0 2 * 5"\n'));
    await f.advance(24 * 60 * MINUTE);
    expect(await f.runs('both')).toHaveLength(1);
    await f.advance(31 * 24 * 60 * MINUTE); // 2026-02-02 is a Monday: no run
    expect(await f.runs('both')).toHaveLength(1);
  });

  it('max_concurrent skips ticks while that many runs are not terminal', async () => {
    await f.createOk('cap', waitingWorkflow('cap', 'schedule:\n  interval: 1000\n'));
    await f.advance(1000);
    await f.advance(1000);
    await f.advance(1000);
    const runs = await f.runs('cap');
    expect(runs).toHaveLength(1); // default max_concurrent 1
    await f.cancel(runs[0].runId);
    await f.advance(1000);
    expect(await f.runs('cap')).toHaveLength(2);
  });

  it('paused schedules never fire; disable pauses and enable resumes', async () => {
    await f.createOk('paused', waitingWorkflow('paused', 'schedule:\n  interval: 1000\n  paused: true\n'));
    await f.createOk('toggle', waitingWorkflow('toggle', 'schedule:\n  interval: 1000\n  maxConcurrent: 100\n'));
    await f.advance(1000);
    expect(await f.runs('toggle')).toHaveLength(1);
    await f.disable('toggle');
    await f.advance(5000);
    expect(await f.runs('toggle')).toHaveLength(1);
    await f.enable('toggle');
    await f.advance(1000);
    expect(await f.runs('toggle')).toHaveLength(2);
    expect(await f.runs('paused')).toEqual([]);
  });

  it('re-creating the definition replaces the schedule', async () => {
    await f.createOk('re', waitingWorkflow('re', 'schedule:\n  interval: 1000\n  maxConcurrent: 100\n'));
    await f.createOk('re', waitingWorkflow('re', 'schedule:\n  interval: 5000\n  maxConcurrent: 100\n'));
    await f.advance(4000);
    expect(await f.runs('re')).toEqual([]);
    await f.advance(1000);
    expect(await f.runs('re')).toHaveLength(1);
    await f.createOk('re', waitingWorkflow('re', ''));
    await f.advance(10_000);
    expect(await f.runs('re')).toHaveLength(1);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['an invalid cron expression', 'schedule:\n  cron: "61 * * * *"\n', /schedule\.cron: invalid cron expression "61 \* \* \* \*"/],
    ['a 6-field cron expression', 'schedule:\n  cron: "0 0 * * * *"\n', /schedule\.cron: invalid cron expression/],
    ['both cron and interval', 'schedule:\n  cron: "* * * * *"\n  interval: 5\n', /exactly one of cron or interval/],
    ['a zero interval', 'schedule:\n  interval: 0\n', /schedule\.interval must be a positive/],
    ['a bad max_concurrent', 'schedule:\n  interval: 5\n  max_concurrent: 0\n', /maxConcurrent must be a positive integer/],
  ];
  for (const [what, extra, message] of bad) {
    it(`refuses ${what} with BAD_REQUEST at create`, async () => {
      const r = await f.create('bad', waitingWorkflow('bad', extra));
      expect(r.status).toBe(Status.BadRequest);
      expect(fromUtf8(r.payload)).toMatch(message);
    });
  }
});
