// `flo-rx serve` as a real child process, for crash and start-up tests. The CLI is bundled once per
// test file with esbuild (so each start takes a fraction of a second) next to the sources, where
// Node finds the dependencies in node_modules.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

// Every server this module starts, so that a test failing before it stops its server leaves no
// process behind: they are all killed when the test file is done.
const started = new Set<ChildProcess>();
afterAll(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
});

export interface CliBundle {
  readonly path: string;
  dispose(): void;
}

export async function bundleCli(): Promise<CliBundle> {
  const dir = mkdtempSync(join(ROOT, 'node_modules', '.flo-rx-cli-'));
  const path = join(dir, 'cli.mjs');
  await build({
    entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
    outfile: path,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'silent',
  });
  chmodSync(dir, 0o755); // readable by a server started as another user
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the output once it matches `pattern` (rejects if the process exits first). */
  waitForOutput(pattern: RegExp): Promise<string>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `flo-rx serve --port 0 ...args`; resolves once it listens, rejects with its output if it exits first. */
export function startServe(cli: CliBundle, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; uid?: number; gid?: number } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [cli.path, 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLO_DATA_DIR: '', ...opts.env },
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  started.add(child);
  child.once('exit', () => started.delete(child));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    const onData = () => {
      const m = /listening on flo:\/\/[^:]+:(\d+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      const port = Number(m[1]);
      resolve({
        child,
        port,
        output: () => out,
        waitForOutput: (pattern) =>
          new Promise<string>((res, rej) => {
            const check = () => {
              if (!pattern.test(out)) return false;
              child.stdout!.off('data', check);
              child.stderr!.off('data', check);
              res(out);
              return true;
            };
            if (check()) return;
            child.stdout!.on('data', check);
            child.stderr!.on('data', check);
            void exited.then(() => rej(new ServeExit(child.exitCode, child.signalCode, out)));
          }),
        exited,
        kill(signal = 'SIGKILL') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => reject(new ServeExit(code, signal, out)));
  });
}

export class ServeExit extends Error {
  constructor(
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly output: string,
  ) {
    super(`flo-rx serve exited (${code ?? signal}) before listening: ${output.trim()}`);
  }
}

/**
 * For a test file that runs `flo-rx serve` processes: bundles the command once before the file's
 * tests (`cli()`), hands out temporary data directories (`tempDir()`), and removes both after them.
 */
export function useServeCli(prefix: string): { readonly cli: () => CliBundle; readonly tempDir: () => string } {
  let bundle: CliBundle | undefined;
  const dirs: string[] = [];
  beforeAll(async () => {
    bundle = await bundleCli();
  });
  afterAll(() => {
    bundle?.dispose();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return {
    cli: () => {
      if (!bundle) throw new Error('the flo-rx command is not bundled yet (call cli() inside a test)');
      return bundle;
    },
    tempDir: () => {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
