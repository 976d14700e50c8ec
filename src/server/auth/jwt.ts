/**
 * WebSocket authentication as Flo does it: a JWT arrives with the upgrade request, in an
 * `Authorization: Bearer <token>` header or a `?token=<token>` query parameter (browsers cannot set
 * headers on a WebSocket). It is verified with HS256 (a shared secret) or RS256 (keys from a JWKS
 * document), by the `jose` library. Its claims then govern the connection: `flo_namespace` locks
 * it to one namespace, `flo_scopes` (`action:resource:key-pattern`) allow each operation, and `exp`
 * is enforced on every request. A connection whose token is missing or invalid still opens, and
 * every request on it is answered UNAUTHORIZED (status 7) with the reason, so a browser client gets
 * a clear typed error rather than an anonymous close.
 */
import type { JSONWebKeySet, JWTPayload } from 'jose';

/**
 * `jose` ships as ES modules only: loaded with `import()` when the first token is checked, so the
 * CommonJS build needs no copy of it and a server without JWT auth never loads it.
 */
let joseModule: Promise<typeof import('jose')> | undefined;
const loadJose = () => (joseModule ??= import('jose'));

/**
 * A JWKS document (RFC 7517 §5): `{ "keys": [ { "kty": "RSA", "n": …, "e": …, "kid": … } ] }`, as an
 * identity provider publishes it. Our own type, so that the public declarations do not depend on
 * `jose` (an ES-module-only package that CommonJS declarations cannot import).
 */
export interface JwksDocument {
  /** The public keys, as JSON Web Keys. */
  readonly keys: ReadonlyArray<Readonly<Record<string, unknown>>>;
}
import { decodeKvMGet, fromUtf8, Op, type RequestBody } from '../../protocol/index.js';
import { DEFAULT_NAMESPACE } from '../namespace.js';
import { accessFor, matchScope } from './scopes.js';

/** How tokens are verified; at least one of the two. */
export interface JwtConfig {
  /** HS256 shared secret. */
  readonly secret?: string;
  /** Public keys for RS256 (a JWKS document: `{ "keys": [...] }`). */
  readonly jwks?: JwksDocument;
}

/** The claims Flo reads from a verified token. */
export interface FloClaims {
  readonly sub?: string;
  /** The one namespace the connection may use, when set. */
  readonly namespace?: string;
  readonly scopes: readonly string[];
  /** Expiry, seconds since the epoch. */
  readonly exp?: number;
}

/** The result of checking a connection's token. */
export type AuthOutcome = { readonly ok: true; readonly claims: FloClaims } | { readonly ok: false; readonly reason: string };

/** Decides one request: the reason it is refused, or `undefined` when allowed. */
export type RequestAuthorizer = (opcode: number, body: RequestBody) => string | undefined;

/** The token of an upgrade request: `Authorization: Bearer …` first, else `?token=`. */
export function tokenFromUpgrade(url: string, authorization: string | undefined): string | undefined {
  const bearer = authorization && /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (bearer) return bearer[1];
  const q = url.indexOf('?');
  if (q < 0) return undefined;
  const token = new URLSearchParams(url.slice(q + 1)).get('token');
  return token || undefined;
}

/** Verifies `token` (signature, algorithm, `exp`) and reads Flo's claims. */
export async function verifyToken(token: string | undefined, config: JwtConfig): Promise<AuthOutcome> {
  if (!token) return { ok: false, reason: 'authentication required: no token (send Authorization: Bearer <jwt> or ?token=<jwt>)' };
  const { createLocalJWKSet, decodeProtectedHeader, errors: joseErrors, jwtVerify } = await loadJose();
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(token).alg;
  } catch {
    return { ok: false, reason: 'invalid token: malformed' };
  }
  try {
    let payload: JWTPayload;
    if (alg === 'HS256' && config.secret !== undefined) {
      ({ payload } = await jwtVerify(token, new TextEncoder().encode(config.secret), { algorithms: ['HS256'] }));
    } else if (alg === 'RS256' && config.jwks) {
      ({ payload } = await jwtVerify(token, createLocalJWKSet(config.jwks as unknown as JSONWebKeySet), { algorithms: ['RS256'] }));
    } else {
      return { ok: false, reason: `invalid token: algorithm ${String(alg)} is not accepted` };
    }
    return { ok: true, claims: claimsOf(payload) };
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) return { ok: false, reason: 'token expired' };
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) return { ok: false, reason: 'invalid token: bad signature' };
    if (err instanceof joseErrors.JWKSNoMatchingKey) return { ok: false, reason: 'invalid token: no matching key' };
    return { ok: false, reason: `invalid token: ${(err as Error)?.message ?? String(err)}` };
  }
}

function claimsOf(payload: JWTPayload): FloClaims {
  const ns = payload['flo_namespace'];
  const scopes = payload['flo_scopes'];
  return {
    ...(typeof payload.sub === 'string' ? { sub: payload.sub } : {}),
    ...(typeof ns === 'string' && ns !== '' ? { namespace: ns } : {}),
    scopes: Array.isArray(scopes) ? scopes.filter((s): s is string => typeof s === 'string') : [],
    ...(typeof payload.exp === 'number' ? { exp: payload.exp } : {}),
  };
}

/** Keys a request touches, as text, for scope matching (mget names many). */
function keysOf(opcode: number, body: RequestBody): string[] {
  if (opcode === Op.KvMGet) {
    try {
      return decodeKvMGet(body).keys.map((k) => fromUtf8(k));
    } catch {
      return ['']; // the handler will answer BAD_REQUEST
    }
  }
  return [fromUtf8(body.key)];
}

/** The per-request check for a connection whose token was checked with `outcome`. */
export function createAuthorizer(outcome: AuthOutcome, now: () => number = Date.now): RequestAuthorizer {
  return (opcode, body) => {
    if (!outcome.ok) return outcome.reason;
    const { claims } = outcome;
    if (claims.exp !== undefined && now() / 1000 > claims.exp) return 'token expired';
    if (opcode === Op.Ping) return undefined;
    const ns = body.namespace.length === 0 ? DEFAULT_NAMESPACE : fromUtf8(body.namespace);
    if (claims.namespace !== undefined && ns !== claims.namespace) {
      return `namespace ${JSON.stringify(ns)} is not allowed: the token is locked to ${JSON.stringify(claims.namespace)}`;
    }
    const access = accessFor(opcode);
    if (!access) return 'operation not allowed on an authenticated WebSocket';
    for (const key of keysOf(opcode, body)) {
      if (!claims.scopes.some((s) => matchScope(s, access.action, access.resource, key))) {
        return `missing scope: ${access.action}:${access.resource}:${key}`;
      }
    }
    return undefined;
  };
}
