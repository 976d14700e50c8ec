import { describe, expect, it } from 'vitest';
import { PendingRequest, PendingTable, type RequestOwner } from '../../src/connection/pending.js';
import type { ReplySink, RequestSpec } from '../../src/connection/types.js';

const owner: RequestOwner = { abandon: () => undefined };
const spec = { opcode: 1, namespace: 'ns', body: {} } as unknown as RequestSpec;

function entry(id: number, errors: string[] = []): PendingRequest {
  const sink: ReplySink = { next: () => undefined, error: (e) => errors.push(`${id}:${(e as Error).message}`), complete: () => undefined };
  return new PendingRequest(owner, id, spec, sink, new Uint8Array(0), 0, 0, 1000);
}

describe('PendingTable', () => {
  it('takes requests one at a time and several at once by id, whatever the order of their replies', () => {
    const t = new PendingTable(10);
    for (let id = 1; id <= 3; id++) {
      const e = entry(id);
      t.add(e);
      expect(t.size).toBe(1);
      expect(t.take(id + 100)).toBeUndefined();
      expect(t.take(id)).toBe(e);
      expect(t.size).toBe(0);
      expect(t.take(id)).toBeUndefined();
    }
    const many = [4, 5, 6, 7].map((id) => entry(id));
    for (const e of many) t.add(e);
    expect(t.size).toBe(4);
    expect(t.take(6)).toBe(many[2]);
    expect(t.take(4)).toBe(many[0]); // the oldest
    t.add(entry(8));
    expect(t.size).toBe(3);
    expect([t.take(8)?.id, t.take(7)?.id, t.take(5)?.id]).toEqual([8, 7, 5]);
    expect(t.size).toBe(0);
  });

  it('forgets requests (the oldest too) and remembers the sent ones as abandoned', () => {
    const t = new PendingTable(10);
    const [a, b] = [entry(1), entry(2)];
    a.sent = true;
    t.add(a);
    t.add(b);
    t.forget(a);
    expect(t.size).toBe(1);
    expect(t.take(1)).toBeUndefined();
    expect(t.takeLate_(1)).toBe(a);
    t.forget(b); // not sent: not abandoned
    expect(t.size).toBe(0);
    expect(t.takeLate_(2)).toBeUndefined();
  });

  it('fails every request in the order they were added, or only the sent ones', () => {
    const errors: string[] = [];
    const t = new PendingTable(10);
    const es = [1, 2, 3].map((id) => entry(id, errors));
    for (const e of es) t.add(e);
    es[0]!.sent = true;
    es[2]!.sent = true;
    t.failSent_(new Error('lost'));
    expect(errors).toEqual(['1:lost', '3:lost']);
    expect(t.size).toBe(1);
    t.add(entry(4, errors));
    t.failAll_(new Error('closed'));
    expect(errors).toEqual(['1:lost', '3:lost', '2:closed', '4:closed']);
    expect(t.size).toBe(0);
    // Empty again: the next request is taken as before.
    const e = entry(5);
    t.add(e);
    expect(t.take(5)).toBe(e);
  });
});
