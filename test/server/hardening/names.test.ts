/**
 * Defect 8: namespaces are validated exactly as Flo's newest server does: 1–63 bytes of
 * `[a-z0-9_-]`, starting with a letter or digit (a leading `_` is reserved), not ending with `-`;
 * an empty namespace means `default`. Anything else is BAD_REQUEST and changes nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeKvPut, Op, Status, utf8 } from '../../../src/protocol/index.js';
import { startServer, type FloServer } from '../../../src/server/server.js';
import { BinaryClient, text } from '../core/helpers.js';

let server: FloServer | undefined;
let client: BinaryClient | undefined;
afterEach(async () => {
  client?.close();
  await server?.close();
  server = client = undefined;
});

describe('namespace rules', () => {
  it('refuses namespaces Flo refuses, with BAD_REQUEST, and stores nothing', async () => {
    server = await startServer({ port: 0 });
    client = await BinaryClient.open(server.port);
    const put = (id: number, ns: string) => client!.call(id, Op.KvPut, encodeKvPut({ key: utf8('k'), value: utf8('v') }), ns);
    const bad = ['Bad NS/!', '_sys', 'a'.repeat(64), 'Upper', 'ends-', '-starts', 'dot.ted', 'col:on'];
    let id = 1;
    for (const ns of bad) {
      const reply = await put(id++, ns);
      expect({ ns, status: reply.status }).toEqual({ ns, status: Status.BadRequest });
      expect(text(reply.payload)).toMatch(/namespace/);
      const get = await client.call(id++, Op.KvGet, { key: utf8('k') }, ns);
      expect(get.status).toBe(Status.BadRequest);
    }
    const good = ['a', 'a'.repeat(63), 'my_app-2', '9lives', 'default'];
    for (const ns of good) expect({ ns, status: (await put(id++, ns)).status }).toEqual({ ns, status: Status.OK });
    // Empty is `default`.
    const get = await client.call(id++, Op.KvGet, { key: utf8('k') }, '');
    expect(get.status).toBe(Status.OK);
  });
});
