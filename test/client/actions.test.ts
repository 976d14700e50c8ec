import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { ManualClock } from '../../src/server.js';
import { isNotFound, NotFoundError, InvalidArgumentError, BadRequestError } from '../../src/node.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';

let env: Embedded | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

async function setup() {
  const clock = new ManualClock();
  env = await startEmbedded({ clock });
  return { clock, flo: env.client, env };
}

describe('flo.actions: register, invoke, status, list, listRuns, delete', () => {
  it('round-trips an action and its runs', async () => {
    const { flo, clock } = await setup();
    await firstValueFrom(flo.actions.register('resize', { timeoutMs: 10_000, maxRetries: 5, description: 'resizes images' }));
    await firstValueFrom(flo.actions.register('resize')); // re-register bumps the version
    expect(await firstValueFrom(flo.actions.list())).toEqual([{ name: 'resize', actionType: 0, version: 2, enabled: true }]);

    const a = await firstValueFrom(flo.actions.invoke('resize', { w: 64 }, { idempotencyKey: 'img-1', labels: { gpu: true }, priority: 3 }));
    expect(a).toMatch(/^act-/);
    expect(await firstValueFrom(flo.actions.invoke('resize', { w: 999 }, { idempotencyKey: 'img-1' }))).toBe(a);
    clock.advance(5);
    const b = await firstValueFrom(flo.actions.invoke('resize', 'raw text', { delayMs: 1000 }));

    const s = await firstValueFrom(flo.actions.status(a));
    expect(s).toEqual({ runId: a, status: 'pending', statusCode: 0, createdAt: clock.now() - 5, retryCount: 0 });
    expect(s.data()).toBeUndefined();
    const runs = await firstValueFrom(flo.actions.listRuns('resize'));
    expect(runs.map((r) => [r.runId, r.status])).toEqual([
      [b, 'pending'],
      [a, 'pending'],
    ]);
    expect(await firstValueFrom(flo.actions.listRuns())).toHaveLength(2);

    await expect(firstValueFrom(flo.actions.invoke('nope', {}))).rejects.toBeInstanceOf(NotFoundError);
    await expect(firstValueFrom(flo.actions.status('act-missing'))).rejects.toSatisfy(isNotFound);
    await expect(firstValueFrom(flo.actions.invoke('resize', {}, { priority: 300 }))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(firstValueFrom(flo.actions.invoke('resize', {}, { labels: '[1]' }))).rejects.toBeInstanceOf(BadRequestError);

    await firstValueFrom(flo.actions.delete('resize'));
    expect(await firstValueFrom(flo.actions.list())).toEqual([]);
    await expect(firstValueFrom(flo.actions.invoke('resize', {}))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('is cold: nothing is sent before subscription', async () => {
    const { flo } = await setup();
    await firstValueFrom(flo.actions.register('a'));
    const invoke$ = flo.actions.invoke('a', {});
    expect(await firstValueFrom(flo.actions.listRuns('a'))).toEqual([]);
    await firstValueFrom(invoke$);
    await firstValueFrom(invoke$);
    expect(await firstValueFrom(flo.actions.listRuns('a'))).toHaveLength(2);
  });
});

