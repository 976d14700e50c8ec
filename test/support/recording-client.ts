/**
 * A `FloClient` over a channel that records the opcode of every request subscribed to and never
 * answers: for tests of what a call sends (or does not send) before any reply.
 */
import { BehaviorSubject, NEVER, Observable } from 'rxjs';
import { expect } from 'vitest';
import { FloClient, type ClientChannel } from '../../src/client/client.js';
import type { RequestSpec } from '../../src/connection/types.js';
import type { ResponseFrame } from '../../src/protocol/index.js';

export function recordingClient(): { flo: FloClient; sent: number[] } {
  const sent: number[] = [];
  const channel: ClientChannel = {
    state$: new BehaviorSubject('connected' as const),
    reconnected$: NEVER,
    request: (spec: RequestSpec) =>
      new Observable<ResponseFrame>(() => {
        sent.push(spec.opcode);
      }),
  };
  return { flo: new FloClient(channel, { retry: false }), sent };
}

/** Resolves once `check` holds, polling every event-loop turn (a dynamic import takes a few); fails the test after ~1000. */
export async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !check(); i++) await new Promise((r) => setTimeout(r, 1));
  expect(check()).toBe(true);
}
