/**
 * Defect 6: any web page could use the server through its WebSocket endpoint. Now the Origin is
 * checked against an allowlist (loopback pages and the server's own origin by default), the Host
 * must name the server (no DNS rebinding), and with a JWT secret or JWKS configured every request
 * needs a valid token: missing, badly signed, expired, wrong-namespace or out-of-scope requests are
 * answered UNAUTHORIZED (status 7) and change nothing.
 */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { firstValueFrom } from 'rxjs';
import { encodeKvPut, encodeRequest, Op, Status, UnauthorizedError, utf8 } from '../../../src/protocol/index.js';
import { connect } from '../../../src/node.js';
import { startServer, type FloServer, type StartServerOptions } from '../../../src/server/server.js';
import { BinaryClient, text, WsClient } from '../core/helpers.js';

let server: FloServer | undefined;
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) c();
  await server?.close();
  server = undefined;
});

async function start(opts: Partial<StartServerOptions> = {}): Promise<FloServer> {
  server = await startServer({ port: 0, ...opts });
  return server;
}

/** Opens a WebSocket with the given headers; resolves 'open' or the HTTP status of the refusal. */
function tryOpen(url: string, headers: Record<string, string>): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, 'flo-proto', { headers, origin: headers.Origin });
    closers.push(() => ws.terminate());
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => resolve(-1));
  });
}

async function ws(url: string): Promise<WsClient> {
  const c = await WsClient.open(url);
  closers.push(() => c.close());
  return c;
}

describe('Origin and Host checks', () => {
  it('refuses pages of other sites, null origins and foreign Host names; allows loopback pages and programs', async () => {
    const s = await start();
    const url = `ws://127.0.0.1:${s.port}`;
    expect(await tryOpen(url, { Origin: 'https://evil.example' })).toBe(403);
    expect(await tryOpen(url, { Origin: 'null' })).toBe(403);
    // DNS rebinding: the attacker's name resolves to 127.0.0.1, so Host carries it.
    expect(await tryOpen(url, { Host: `rebind.evil.example:${s.port}`, Origin: `http://rebind.evil.example:${s.port}` })).toBe(403);
    expect(await tryOpen(url, { Host: `rebind.evil.example:${s.port}` })).toBe(403);
    expect(await tryOpen(url, { Origin: 'http://localhost:5173' })).toBe('open');
    expect(await tryOpen(url, { Origin: `http://127.0.0.1:${s.port}` })).toBe('open');
    expect(await tryOpen(url, {})).toBe('open'); // no Origin: a program, not a page
  });

  it('allows origins added with allowOrigins, and any page with *', async () => {
    const s = await start({ allowOrigins: ['https://app.example.com'] });
    const url = `ws://127.0.0.1:${s.port}`;
    expect(await tryOpen(url, { Origin: 'https://app.example.com' })).toBe('open');
    expect(await tryOpen(url, { Origin: 'https://other.example.com' })).toBe(403);
    await s.close();
    const any = await start({ allowOrigins: ['*'] });
    expect(await tryOpen(`ws://127.0.0.1:${any.port}`, { Origin: 'https://other.example.com' })).toBe('open');
  });
});

describe('JWT auth on WebSocket', () => {
  const secret = 'test-secret-of-enough-length-0123456789';
  const sign = (claims: Record<string, unknown>, key: Uint8Array | CryptoKey = new TextEncoder().encode(secret), alg = 'HS256', exp: number | string = '1h') =>
    new SignJWT(claims).setProtectedHeader({ alg, kid: 'k1' }).setExpirationTime(exp).sign(key);

  async function putOver(url: string, ns: string, key: string): Promise<{ status: number; message: string }> {
    const c = await ws(url);
    c.send(encodeRequest(1n, Op.KvPut, ns, encodeKvPut({ key: utf8(key), value: utf8('v') })));
    const [r] = await c.waitFor(1);
    return { status: r.status, message: text(r.payload) };
  }

  it('answers UNAUTHORIZED without a token, with a bad signature, expired, wrong namespace or missing scope; nothing changes', async () => {
    const s = await start({ jwtSecret: secret });
    const base = `ws://127.0.0.1:${s.port}`;
    const good = await sign({ sub: 'u1', flo_namespace: 'myapp', flo_scopes: ['write:kv:chat:*', 'read:kv:*'] });
    const cases: Array<[string, string, string, RegExp]> = [
      [base, 'myapp', 'chat:1', /no token/],
      [`${base}/?token=${await sign({ flo_namespace: 'myapp', flo_scopes: ['*:*:*'] }, new TextEncoder().encode('another-secret-0123456789abcdef'))}`, 'myapp', 'chat:1', /bad signature/],
      [`${base}/?token=${await sign({ flo_namespace: 'myapp', flo_scopes: ['*:*:*'] }, undefined, 'HS256', Math.floor(Date.now() / 1000) - 60)}`, 'myapp', 'chat:1', /expired/],
      [`${base}/?token=${good}`, 'other', 'chat:1', /locked to "myapp"/],
      [`${base}/?token=${good}`, 'myapp', 'private:1', /missing scope: write:kv:private:1/],
    ];
    for (const [url, ns, key, why] of cases) {
      const r = await putOver(url, ns, key);
      expect(r.status).toBe(Status.Unauthorized);
      expect(r.message).toMatch(why);
    }
    // Nothing was written by any of them.
    const b = await BinaryClient.open(s.port);
    closers.push(() => b.close());
    for (const [ns, key] of [['myapp', 'chat:1'], ['other', 'chat:1'], ['myapp', 'private:1']]) {
      expect((await b.call(1, Op.KvGet, { key: utf8(key) }, ns)).status).toBe(Status.NotFound);
    }
    // The good token in its namespace and scope works, by query parameter or Authorization header.
    expect((await putOver(`${base}/?token=${good}`, 'myapp', 'chat:1')).status).toBe(Status.OK);
    const viaHeader = new WebSocket(base, 'flo-proto', { headers: { Authorization: `Bearer ${good}` } });
    closers.push(() => viaHeader.terminate());
    await new Promise((r) => viaHeader.once('open', r));
    const reply = new Promise<Buffer>((r) => viaHeader.once('message', (d: Buffer) => r(d)));
    viaHeader.send(encodeRequest(2n, Op.KvGet, 'myapp', { key: utf8('chat:1') }));
    expect((await reply)[21]).toBe(Status.OK);
  });

  it('verifies RS256 tokens against a JWKS', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const s = await start({ jwks: { keys: [jwk] } });
    const token = await sign({ flo_namespace: 'myapp', flo_scopes: ['*:kv:*'] }, privateKey, 'RS256');
    expect((await putOver(`ws://127.0.0.1:${s.port}/?token=${token}`, 'myapp', 'a')).status).toBe(Status.OK);
    const other = await generateKeyPair('RS256');
    const forged = await sign({ flo_namespace: 'myapp', flo_scopes: ['*:kv:*'] }, other.privateKey, 'RS256');
    const r = await putOver(`ws://127.0.0.1:${s.port}/?token=${forged}`, 'myapp', 'b');
    expect(r.status).toBe(Status.Unauthorized);
  });
});

describe('the client with a token', () => {
  it('connect(wsUrl, { authToken }) works in its namespace and gets UnauthorizedError outside its scopes', async () => {
    const secret = 'client-secret-0123456789abcdef';
    const s = await start({ jwtSecret: secret });
    const token = await new SignJWT({ flo_namespace: 'myapp', flo_scopes: ['*:kv:public:*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    const flo = connect(s.wsUrl, { authToken: token, namespace: 'myapp' });
    closers.push(() => void flo.close());
    await firstValueFrom(flo.kv.put('public:a', 'hello'));
    expect(await firstValueFrom(flo.kv.get('public:a'))).toMatchObject({ key: 'public:a' });
    const err = await firstValueFrom(flo.kv.put('secret:a', 'x')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
  });
});

describe('binding beyond loopback', () => {
  it('needs auth or insecure: true, and warns when insecure', async () => {
    await expect(startServer({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/without authentication/);
    const logs: string[] = [];
    server = await startServer({ port: 0, host: '0.0.0.0', insecure: true, logger: (l) => logs.push(l) });
    expect(logs.some((l) => l.startsWith('WARNING') && l.includes('--insecure'))).toBe(true);
  });
});
