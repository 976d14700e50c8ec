// The `logger` option: a pino-style logger and `console` see a reconnect, with endpoint and error.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { filter, firstValueFrom } from 'rxjs';
import { consoleLogger, type FloLogger } from '../../src/node.js';
import { startEmbedded, type Embedded } from '../support/embedded.js';

type Entry = { level: string; fields: Record<string, unknown>; message: string };

function recordingLogger(): { logger: FloLogger; entries: Entry[] } {
  const entries: Entry[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => entries.push({ level, fields, message });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, entries };
}

let env: Embedded | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await env?.close();
  env = undefined;
});

const fast = { minTimeoutMs: 5, maxTimeoutMs: 20, randomize: false } as const;

describe('logger', () => {
  it('logs a reconnect with structured fields: disconnected (warn), reconnect scheduled, connected (info)', async () => {
    const { logger, entries } = recordingLogger();
    env = await startEmbedded({ client: { logger, reconnect: fast } });
    await env.client.connect();
    const endpoint = `127.0.0.1:${env.server.port}`;
    expect(entries).toContainEqual({ level: 'info', fields: { endpoint, reconnected: false }, message: 'connected' });
    entries.length = 0;
    const back = firstValueFrom(env.client.events$.pipe(filter((e) => e.type === 'connected')));
    await env.server.restart();
    await back;
    expect(entries[0]).toMatchObject({ level: 'warn', message: 'disconnected', fields: { endpoint } });
    expect(entries[entries.length - 1]).toEqual({ level: 'info', fields: { endpoint, reconnected: true }, message: 'connected' });
    const failed = entries.filter((e) => e.message === 'connection attempt failed');
    for (const f of failed) {
      expect(f.level).toBe('warn');
      expect(f.fields).toMatchObject({ endpoint });
      expect(String(f.fields.error)).toContain('ECONNREFUSED');
    }
  });

  it('accepts console itself, at info level by default', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => undefined);
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => undefined);
    env = await startEmbedded({ client: { logger: console } });
    await env.client.connect();
    expect(info).toHaveBeenCalledWith(`flo-rx connected endpoint=127.0.0.1:${env.server.port} reconnected=false`);
    expect(debug).not.toHaveBeenCalled();
  });

  it('consoleLogger filters by level and formats fields', () => {
    const lines: string[] = [];
    const push = (l: unknown) => lines.push(String(l));
    const log = consoleLogger({ console: { debug: push, info: push, warn: push, error: push }, level: 'warn' });
    log.info({ a: 1 }, 'hidden');
    log.warn({ endpoint: 'h:1', error: new Error('boom bang') }, 'shown');
    expect(lines).toEqual(['flo-rx shown endpoint=h:1 error="boom bang"']);
  });
});
