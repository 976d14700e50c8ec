import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const children: ChildProcess[] = [];
const blockers: Server[] = [];

afterEach(async () => {
  // tsx runs the command in a child process of its own: kill the whole process group.
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null && c.pid !== undefined) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }
  }
  await Promise.all(blockers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

function start(args: string[]) {
  const child = spawn(tsx, ['src/cli/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b) => (stdout += b));
  child.stderr!.on('data', (b) => (stderr += b));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function run(args: string[]) {
  const p = start(args);
  const code = await p.exited;
  return { code, stdout: p.out(), stderr: p.err() };
}

async function until(check: () => boolean, what: string, p: ReturnType<typeof start>) {
  while (!check()) {
    if (p.child.exitCode !== null) throw new Error(`exited (${p.child.exitCode}) before ${what}: ${p.err()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('flo-rx, as a process', () => {
  it('--version prints the package version', async () => {
    const { version } = (await import('../../package.json', { with: { type: 'json' } })).default;
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout.trim()).toBe(version);
  }, 30_000);

  it('--help lists the commands; each command has its own --help', async () => {
    const top = await run(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/^ {2}serve +Run the embedded/m);
    expect(top.stdout).toMatch(/^ {2}ui +Serve the event-sourced board/m);
    const serve = await run(['serve', '--help']);
    expect(serve.stdout).toMatch(/^Usage: flo-rx serve \[options\]/);
    expect(serve.stdout).toContain('--profile <go|flo>');
  }, 30_000);

  it('a bad flag: one line naming it, then the command help, exit 2', async () => {
    const { code, stderr } = await run(['serve', '--port', 'x']);
    expect(code).toBe(2);
    expect(stderr.split('\n')[0]).toBe('flo-rx: --port needs a number from 0 to 65535, got x');
    expect(stderr).toContain('Usage: flo-rx serve');
  }, 30_000);

  it('serve on a port in use: one clear line, no stack trace, exit 1', async () => {
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const { code, stderr, stdout } = await run(['serve', '--port', String(port)]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual([
      `flo-rx: 127.0.0.1:${port} is already in use (EADDRINUSE): stop the other process or pick another --port (0 = any free port)`,
    ]);
    expect(stdout).toBe('');
  }, 30_000);

  it('serve on an address this machine does not have: one clear line, exit 1', async () => {
    // --insecure: without it a non-loopback --host is refused before any listen (tested below).
    const { code, stderr } = await run(['serve', '--port', '0', '--host', '192.0.2.1', '--insecure']);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toEqual(['flo-rx: cannot listen on 192.0.2.1: this machine has no such address (EADDRNOTAVAIL); check --host']);
  }, 30_000);

  it('serve refuses a non-loopback --host without auth or --insecure: one line, exit 2, nothing listens', async () => {
    const { code, stderr, stdout } = await run(['serve', '--host', '0.0.0.0', '--port', '0']);
    expect(code).toBe(2);
    const lines = stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^flo-rx: refusing to listen on 0\.0\.0\.0 \(not a loopback address\) without authentication/);
    expect(stdout).toBe('');
  }, 30_000);

  it('serve with an unreadable --jwks file: one line, exit 2', async () => {
    const { code, stderr } = await run(['serve', '--port', '0', '--jwks', '/nonexistent/keys.json']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^flo-rx: --jwks: cannot read \/nonexistent\/keys\.json/);
  }, 30_000);

  it('serve --insecure on a non-loopback address prints the warning, then the banner', async () => {
    const p = start(['serve', '--port', '0', '--host', '0.0.0.0', '--insecure', '--max-memory', '512mb', '--idle-timeout', '60000']);
    await until(() => p.out().includes('storage'), 'the banner', p);
    expect(p.out()).toMatch(/WARNING: listening on 0\.0\.0\.0 without authentication[^\n]*\n.*embedded Flo server listening on flo:\/\/0\.0\.0\.0:\d+\n/);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
  }, 30_000);

  it('serve prints its banner (version, address, profile, storage) and stops on SIGTERM with exit 0', async () => {
    const p = start(['serve', '--port', '0', '--profile', 'flo']);
    await until(() => p.out().includes('storage'), 'the banner', p);
    const out = p.out();
    expect(out).toMatch(/flo-rx \S+: embedded Flo server listening on flo:\/\/127\.0\.0\.1:\d+$/m);
    expect(out).toMatch(/profile +flo$/m);
    expect(out).toMatch(/storage +in-memory: data is lost on exit$/m);
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    expect(p.out()).toMatch(/SIGTERM: shutting down\n.*stopped\n$/);
  }, 30_000);
});
