import { describe, expect, it } from 'vitest';
import { main } from '../../src/demo/main.js';
import type { DemoOutput } from '../../src/demo/progress.js';

function buffer(isTTY = false): DemoOutput & { text(): string } {
  const chunks: string[] = [];
  return { write: (t: string) => chunks.push(t), isTTY, columns: 120, text: () => chunks.join('') };
}

describe('flo-rx demo, in-process', () => {
  it('runs the whole pipeline on a small run and verifies the projections, the tasks and the DLQ', async () => {
    const out = buffer();
    const result = await main(['--events', '150', '--quiet'], { out });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.exitCode).toBe(0);
    const { counters, expected } = result;
    expect(counters).toBeDefined();
    expect(expected).toBeDefined();
    expect(counters!.appended).toBe(150);
    expect(counters!.processed).toBe(150);
    expect(counters!.tasksEnqueued).toBe(expected!.tasks);
    expect(counters!.tasksDone).toBe(expected!.tasksDone);
    expect(counters!.dlq).toBe(expected!.deadLettered.length);
    expect(counters!.failedDeliveries).toBe(expected!.failedDeliveries);
    expect(expected!.deadLettered).toEqual(['receipt:97']); // 150 events: one poison receipt
    expect(result.customersVerified).toBe(expected!.profiles.size);

    const text = out.text();
    expect(text).not.toContain('flo-rx demo: embedded'); // --quiet: no banner
    expect(text).not.toContain('progress:');
    expect(text).toContain(`of ${expected!.profiles.size}/${expected!.profiles.size} customers match the in-memory expectation`);
    expect(text).toContain('1 in the DLQ (expected 1)');
    expect(text).toMatch(
      new RegExp(`^demo OK: 150 events processed, ${expected!.tasksDone} tasks done, 1 dead-lettered, ${expected!.profiles.size} customer projections verified in [\\d.]+ s$`, 'm'),
    );
    expect(result.summary).toBe(text);
  });

  it('prints the banner without --quiet', async () => {
    const out = buffer();
    const result = await main(['--events=40'], { out });
    expect(result.exitCode).toBe(0);
    expect(out.text()).toMatch(/^flo-rx demo: embedded Flo server on 127\.0\.0\.1:\d+, namespace "demo", data directory \S+flo-rx-demo-\S+ \(fsync always\) \(a temporary one\)$/m);
    expect(out.text()).toContain('  producer   40 order events → stream "orders"');
    expect(out.text()).toMatch(/^demo OK: 40 events processed/m);
  });

  it('rejects bad arguments with exit code 2 and the usage, without starting anything', async () => {
    const out = buffer();
    const err = buffer();
    const result = await main(['--events', '0'], { out, err });
    expect(result.exitCode).toBe(2);
    expect(result.ok).toBe(false);
    expect(err.text()).toContain('--events needs a number from 1 to 1000000, got 0');
    expect(err.text()).toContain('Usage: flo-rx demo');
    expect(out.text()).toBe('');

    expect((await main(['--frobnicate'], { out, err })).exitCode).toBe(2);
    expect(err.text()).toContain('unknown option for demo: --frobnicate');
  });

  it('--help prints the usage and exits 0', async () => {
    const out = buffer();
    const result = await main(['--help'], { out });
    expect(result.exitCode).toBe(0);
    expect(out.text()).toContain('--events <n>');
  });
});
