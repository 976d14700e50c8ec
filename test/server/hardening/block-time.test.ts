/**
 * Defect 4: a huge block time on action-await made Node's timer overflow (fire after 1 ms and
 * re-arm in a loop, printing TimeoutOverflowWarning). Every block time is now validated
 * (≤ 300,000 ms) and the server's timers never overflow, whatever the delay (long TTLs too).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeActionAwait, encodeActionInvoke, encodeActionRegister, Op, Status } from '../../../src/protocol/index.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import { BinaryClient, text } from '../core/helpers.js';

let server: FloServer | undefined;
const clients: BinaryClient[] = [];
const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
afterEach(async () => {
  process.off('warning', onWarning);
  for (const c of clients.splice(0)) c.close();
  await server?.close();
  server = undefined;
  warnings.length = 0;
});

async function open(): Promise<BinaryClient> {
  server ??= await startServer({ port: 0 });
  const c = await BinaryClient.open(server.port);
  clients.push(c);
  return c;
}

const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 50));

describe('block times and timers', () => {
  it('refuses an action-await block time above 300,000 ms with BAD_REQUEST and arms no overflowing timer', async () => {
    process.on('warning', onWarning);
    const c = await open();
    const reg = await c.call(1, Op.ActionRegister, encodeActionRegister({ name: 'resize' }), 'test');
    expect(reg.status).toBe(Status.OK);
    const reply = await c.call(2, Op.ActionAwait, encodeActionAwait({ workerId: 'w1', actions: ['resize'], blockMs: 2 ** 32 - 1 }), 'test');
    expect(reply.status).toBe(Status.BadRequest);
    expect(text(reply.payload)).toMatch(/300000/);
    const ok = await c.call(3, Op.ActionAwait, encodeActionAwait({ workerId: 'w1', actions: ['resize'], blockMs: 300_001 }), 'test');
    expect(ok.status).toBe(Status.BadRequest);
    await settle();
    expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
  });

  it('arms no overflowing timer for an action delayed by 40 days', async () => {
    process.on('warning', onWarning);
    const c = await open();
    expect((await c.call(1, Op.ActionRegister, encodeActionRegister({ name: 'later' }), 'test')).status).toBe(Status.OK);
    const invoke = await c.call(2, Op.ActionInvoke, encodeActionInvoke({ name: 'later', delayMs: 40n * 86_400_000n }), 'test');
    expect(invoke.status).toBe(Status.OK);
    await settle();
    // Not claimable yet: the delay has not passed (a timer that fired early would make it claimable).
    const claim = await c.call(3, Op.ActionAwait, encodeActionAwait({ workerId: 'w1', actions: ['later'], blockMs: 0 }), 'test');
    expect(claim.status).toBe(Status.OK);
    expect(claim.payload.length).toBe(0);
    expect(warnings.filter((w) => w.name === 'TimeoutOverflowWarning')).toEqual([]);
  });
});
