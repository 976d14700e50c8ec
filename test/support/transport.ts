/**
 * Test helpers around transports: a wrapping `TransportFactory` that records every connection
 * attempt and every `send`, and small utilities to observe request outcomes.
 */
import { firstValueFrom, type Observable } from 'rxjs';
import type { Transport, TransportFactory } from '../../src/connection/types.js';

export interface RecordingTransport {
  readonly factory: TransportFactory;
  /** Endpoints passed to the factory, in order (failed attempts included). */
  readonly attempts: string[];
  /** Every `send` call's bytes, in order. */
  readonly sends: Uint8Array[];
  /** Transports opened so far, newest last. */
  readonly opened: Transport[];
}

export function recording(inner: TransportFactory): RecordingTransport {
  const attempts: string[] = [];
  const sends: Uint8Array[] = [];
  const opened: Transport[] = [];
  const factory: TransportFactory = async (endpoint, handlers) => {
    attempts.push(endpoint);
    const t = await inner(endpoint, handlers);
    const wrapped: Transport = {
      send(bytes) {
        sends.push(bytes);
        t.send(bytes);
      },
      close() {
        t.close();
      },
    };
    opened.push(wrapped);
    return wrapped;
  };
  return { factory, attempts, sends, opened };
}

/** Counts the frames in a buffer of whole request frames (32-byte header + length). */
export function countFrames(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let n = 0;
  for (let at = 0; at < bytes.length; n++) at += 32 + view.getUint32(at + 4, true);
  return n;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: Error };

/** The first value or the error, as data (never rejects). */
export function outcome<T>(source: Observable<T>): Promise<Outcome<T>> {
  return firstValueFrom(source).then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}

/** Resolves on a macrotask turn (lets sockets and microtasks run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` once per event-loop turn until it holds (the test timeout bounds it). */
export async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await tick();
}
