/**
 * Which web pages may open a WebSocket to the server, and which `Host` names it answers to. A
 * browser lets any page open a WebSocket to any address, sending the page's `Origin`; a page on
 * another site must not reach a developer's local server (cross-site WebSocket hijacking), nor
 * through a DNS name it points at 127.0.0.1 (DNS rebinding: then `Host` carries that name).
 */

/** What the checks need to know about the server. */
export interface OriginPolicy {
  /** Extra allowed origins (`https://app.example.com`), or `*` for any. */
  readonly allowOrigins: readonly string[];
  /** The server's port (a `Host` or own origin must name it). */
  readonly port: number;
  /** The address the server is bound to. */
  readonly host: string;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for `localhost`, `*.localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return LOOPBACK_NAMES.has(h) || h.endsWith('.localhost') || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '0:0:0:0:0:0:0:1';
}

function isIpLiteral(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || (h.includes(':') && /^[0-9a-f:.]+$/i.test(h));
}

/** Splits a `Host` header value into name and port (`undefined` when absent or malformed). */
function parseHost(value: string): { name: string; port: number | undefined } | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  return { name: m[1].toLowerCase(), port: m[2] === undefined ? undefined : Number(m[2]) };
}

/**
 * Why the `Host` header is refused, or `undefined` when it names this server: an IP address or a
 * loopback name (with this server's port, if a port is given), or the host of an allowed origin.
 * Any other name could be an attacker's DNS name rebound to this address.
 */
export function hostProblem(hostHeader: string | undefined, policy: OriginPolicy): string | undefined {
  if (!hostHeader) return 'missing Host header';
  const host = parseHost(hostHeader);
  if (!host) return `malformed Host header ${JSON.stringify(hostHeader)}`;
  if (host.port !== undefined && host.port !== policy.port) return `Host ${JSON.stringify(hostHeader)} names another port`;
  if (isLoopbackHost(host.name) || isIpLiteral(host.name) || host.name === policy.host.toLowerCase()) return undefined;
  for (const o of policy.allowOrigins) {
    if (o === '*') return undefined;
    try {
      if (new URL(o).hostname.toLowerCase() === host.name) return undefined;
    } catch {
      // a malformed allowlist entry never matches
    }
  }
  return `Host ${JSON.stringify(hostHeader)} is not this server (use its address, localhost, or a host of an allowed origin)`;
}

/**
 * Why the `Origin` header is refused, or `undefined` when allowed. No `Origin` (a program, not a
 * browser page) is allowed; so are pages served from a loopback address, the server's own origin
 * (the `Host` it was reached by), and the allowlist (`*` = any). `null` (sandboxed frames, files)
 * is allowed only with `*`.
 */
export function originProblem(origin: string | undefined, hostHeader: string | undefined, policy: OriginPolicy): string | undefined {
  if (origin === undefined) return undefined;
  if (policy.allowOrigins.includes('*')) return undefined;
  const refused = `Origin ${JSON.stringify(origin)} is not allowed (allow it with --allow-origin)`;
  if (origin === 'null') return refused;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return refused;
  }
  if ((url.protocol === 'http:' || url.protocol === 'https:') && isLoopbackHost(url.hostname)) return undefined;
  if (hostHeader && url.host.toLowerCase() === hostHeader.trim().toLowerCase()) return undefined;
  for (const allowed of policy.allowOrigins) {
    try {
      if (new URL(allowed).origin === url.origin) return undefined;
    } catch {
      // a malformed allowlist entry never matches
    }
  }
  return refused;
}
