// `flo-rx serve --data-dir` as a real process: one server per directory, clear one-line start
// errors with exit code 1, the banner and status page naming the storage, and data kept across a
// clean stop (SIGINT) as well as a full disk at run time.
import { afterAll, describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { connect } from '../../src/node.js';
import { UnavailableError } from '../../src/protocol/index.js';
import { startServer } from '../../src/server.js';
import { ServeExit, startServe, useServeCli } from '../support/serve-process.js';

const { cli, tempDir: temp } = useServeCli('flo-rx-dd-');

async function startFails(args: string[], opts: Parameters<typeof startServe>[2] = {}): Promise<ServeExit> {
  try {
    const s = await startServe(cli(), args, opts);
    await s.kill();
  } catch (err) {
    if (err instanceof ServeExit) return err;
    throw err;
  }
  throw new Error('the server started');
}

describe('flo-rx serve --data-dir', () => {
  it('names the storage in its banner and status page, and keeps data across SIGINT', async () => {
    const dir = temp();
    const a = await startServe(cli(), ['--data-dir', dir, '--fsync', 'everysec']);
    expect(await a.waitForOutput(/storage +data directory/)).toContain(`storage   data directory ${dir} (fsync everysec)`);
    const status = (await (await fetch(`http://127.0.0.1:${a.port}/`)).json()) as { storage: string };
    expect(status.storage).toBe(`data directory ${dir} (fsync everysec)`);
    const c = connect(`127.0.0.1:${a.port}`, { reconnect: false });
    await firstValueFrom(c.kv.put('greeting', 'hello'));
    await firstValueFrom(c.queue.enqueue('jobs', { n: 1 }));
    await firstValueFrom(c.stream.append('events', { n: 1 }));
    await c.close();
    expect((await a.kill('SIGINT')).code).toBe(0);
    const b = await startServe(cli(), [], { env: { FLO_DATA_DIR: dir } });
    const c2 = connect(`127.0.0.1:${b.port}`, { reconnect: false });
    try {
      expect((await firstValueFrom(c2.kv.get('greeting')))?.text()).toBe('hello');
      expect((await firstValueFrom(c2.queue.stats('jobs'))).ready).toBe(1n);
      expect((await firstValueFrom(c2.stream.info('events'))).count).toBe(1n);
    } finally {
      await c2.close();
      await b.kill();
    }
  });

  it('says it is in memory without a data directory', async () => {
    const s = await startServe(cli(), []);
    expect(await s.waitForOutput(/in-memory/)).toContain('storage   in-memory: data is lost on exit');
    const status = (await (await fetch(`http://127.0.0.1:${s.port}/`)).json()) as { storage: string };
    expect(status.storage).toBe('in-memory: data is lost on exit');
    await s.kill();
  });

  it('refuses a second server on the same directory, naming the pid of the first', async () => {
    const dir = temp();
    const first = await startServe(cli(), ['--data-dir', dir]);
    try {
      const second = await startFails(['--data-dir', dir]);
      expect(second.code).toBe(1);
      expect(second.output.trim()).toBe(`flo-rx: data directory ${dir} is in use by another flo-rx server (pid ${first.child.pid}, lock file ${join(dir, 'flo-rx.lock')})`);
      await expect(startServer({ port: 0, dataDir: dir })).rejects.toThrow(`pid ${first.child.pid}`);
    } finally {
      await first.kill();
    }
  });

  it('fails in one line with exit code 1 on a missing or unwritable directory', async () => {
    const missing = await startFails(['--data-dir', join(temp(), 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.output.trim().split('\n')).toHaveLength(1);
    expect(missing.output).toMatch(/data directory .*nope does not exist/);

    const dir = temp();
    chmodSync(dir, 0o555);
    chmodSync(join(dir, '..'), 0o755);
    // root writes anywhere: run the server as nobody then.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const ro = await startFails(['--data-dir', dir], asNobody);
    expect(ro.code).toBe(1);
    expect(ro.output.trim()).toBe(`flo-rx: data directory ${dir} is not writable (EACCES)`);
  });

  it('refuses to start on a log corrupted before its tail (exit code 1), and cuts a torn tail', async () => {
    const dir = temp();
    const s = await startServe(cli(), ['--data-dir', dir]);
    const c = connect(`127.0.0.1:${s.port}`, { reconnect: false });
    for (let i = 0; i < 5; i++) await firstValueFrom(c.kv.put(`k${i}`, `v${i}`));
    await c.close();
    await s.kill('SIGKILL');
    const log = join(dir, readdirSync(dir).find((f) => f.startsWith('log-'))!);
    const bytes = readFileSync(log);
    const flipped = Buffer.from(bytes);
    flipped[20] ^= 0xff; // inside the first record
    writeFileSync(log, flipped);
    const bad = await startFails(['--data-dir', dir]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/log .* is corrupt at offset 0 .*refusing to start/);
    writeFileSync(log, bytes.subarray(0, bytes.length - 3));
    const ok = await startServe(cli(), ['--data-dir', dir]);
    expect(ok.output()).toMatch(/dropped \d+ byte\(s\) of a torn last record at offset \d+/);
    const c2 = connect(`127.0.0.1:${ok.port}`, { reconnect: false });
    expect((await firstValueFrom(c2.kv.get('k3')))?.text()).toBe('v3');
    expect(await firstValueFrom(c2.kv.get('k4'))).toBeNull();
    await c2.close();
    await ok.kill();
  });
});

// A real full disk: a 1 MiB tmpfs (needs root and mount; skipped elsewhere, e.g. in CI as a plain user).
function mountTinyTmpfs(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = temp();
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}
const tiny = mountTinyTmpfs();

describe.skipIf(!tiny)('a full disk at run time', () => {
  afterAll(() => {
    if (tiny) execFileSync('umount', ['-l', tiny]);
  });
  it('fails the write with a typed error, does not apply it, and keeps serving reads', async () => {
    const dir = join(tiny!, 'data');
    mkdirSync(dir);
    chownSync(dir, 0, 0);
    const server = await startServer({ port: 0, dataDir: dir });
    const c = connect(`127.0.0.1:${server.port}`, { reconnect: false, timeoutMs: 5000 });
    const value = 'x'.repeat(50_000);
    let written = 0;
    let failure: unknown;
    try {
      try {
        for (; written < 100; written++) await firstValueFrom(c.kv.put(`k${written}`, value));
      } catch (err) {
        failure = err;
      }
      expect(failure).toBeInstanceOf(UnavailableError);
      expect((failure as Error).message).toMatch(/disk full.*not applied/);
      expect(written).toBeGreaterThan(5);
      expect(await firstValueFrom(c.kv.get(`k${written}`))).toBeNull();
      expect((await firstValueFrom(c.kv.get('k0')))?.text()).toBe(value);
    } finally {
      await c.close();
      await server.close();
    }
    const again = await startServer({ port: 0, dataDir: dir });
    const c2 = connect(`127.0.0.1:${again.port}`, { reconnect: false });
    expect((await firstValueFrom(c2.kv.get(`k${written - 1}`)))?.text()).toBe(value);
    expect(await firstValueFrom(c2.kv.get(`k${written}`))).toBeNull();
    await c2.close();
    await again.close();
  });
});
