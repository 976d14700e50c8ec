import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../examples/processing.js';

afterEach(() => vi.unstubAllEnvs());

describe('examples/processing.ts', () => {
  it('submits the pipeline, fills the sink stream and the KV sink, and watches the job to its end', async () => {
    vi.stubEnv('FLO_ADDR', '');
    const lines: string[] = [];
    const r = await main((l) => lines.push(l));
    expect(r.sink).toEqual([
      { key: 'ada', value: 30, count: 1 },
      { key: 'bob', value: 120, count: 1 },
      { key: 'ada', value: 45, count: 2 },
    ]);
    expect(r.bigOrder).toEqual({ key: 'bob', value: 120, count: 1 });
    expect(r.progress[0]).toBe('running:0');
    expect(r.progress.at(-1)).toBe('cancelled:4');
    expect(lines).toContain('jobs: order-totals running');
  });
});
