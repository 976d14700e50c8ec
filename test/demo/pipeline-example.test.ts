import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../examples/pipeline.js';

describe('examples/pipeline.ts', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('sends one welcome email per signup, through stream → group → queue → settle', async () => {
    vi.stubEnv('FLO_ADDR', ''); // start the embedded server
    const lines: string[] = [];
    const result = await main((line) => lines.push(line));
    expect(result.appended).toBe(12);
    expect([...result.sent].sort()).toEqual(
      ['ada', 'alan', 'barbara', 'dennis', 'donald', 'edsger', 'frances', 'grace', 'ken', 'linus', 'margaret', 'radia'],
    );
    expect(lines[0]).toMatch(/^embedded Flo server on 127\.0\.0\.1:\d+$/);
    expect(lines).toContain('appended 12 signups to stream "signups"');
    expect(lines.filter((l) => l.startsWith('  ✉ '))).toHaveLength(12);
    expect(lines).toContain('  ✉ ada       Welcome to Pro: your onboarding call');
    expect(lines).toContain('  ✉ grace     Welcome aboard');
    expect(lines.at(-1)).toBe('sent 12 welcome emails for 12 signups');
  });
});
