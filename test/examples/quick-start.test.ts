import { describe, expect, it } from 'vitest';
import { main } from '../../examples/quick-start.js';

describe('README quick start (examples/quick-start.ts)', () => {
  it('runs: KV put/get, a queue message settled through settle(), a stream record tailed', async () => {
    const lines: string[] = [];
    const seen = await main((l) => lines.push(l));
    expect(lines).toEqual(['kv: John Doe v1', 'queue: acked process', 'stream: login from web']);
    expect(seen).toEqual(['process', 'login']);
  });
});
