/**
 * The package as users get it: `npm pack` of the build, installed with rxjs into an empty app in a
 * temporary directory, then used from there. Run by `npm run test:package` (and `.ci/run`) after
 * `npm run build`; only the npm registry is touched (installing rxjs and the dependencies, from the
 * npm cache when it has them).
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK_START_OUTPUT, readmeCodeBlock } from '../support/readme.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const bin = (name: string) => join(root, 'node_modules/.bin', name);
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, unknown>;
  scripts: Record<string, string>;
  peerDependencies?: Record<string, string>;
};
/** The import specifier of every entry in "exports": `flo-rx`, `flo-rx/node`, ... */
const entryIds = Object.keys(pkg.exports)
  .filter((s) => s !== './package.json')
  .map((s) => (s === '.' ? 'flo-rx' : `flo-rx/${s.slice(2)}`));
/** The peer dependencies (optional ones too, so every entry loads), at the versions the repository uses. */
async function peerSpecs(): Promise<string[]> {
  const specs: string[] = [];
  for (const [name, range] of Object.entries(pkg.peerDependencies ?? {})) {
    const installed = await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8').then(
      (text) => (JSON.parse(text) as { version: string }).version,
      () => range,
    );
    specs.push(`${name}@${installed}`);
  }
  return specs;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, timeout = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, [...args], { cwd, timeout, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0, stdout, stderr }),
    );
  });
}

async function ok(command: string, args: readonly string[], cwd: string, timeout?: number): Promise<Run> {
  const r = await run(command, args, cwd, timeout);
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
  return r;
}

let tmp: string;
let tarball: string;
let app: string;
let packed: { size: number; unpackedSize: number; files: Array<{ path: string }> };

beforeAll(async () => {
  if (!existsSync(join(root, 'dist/index.js')) || !existsSync(join(root, 'dist/ui/index.html'))) await ok('npm', ['run', 'build'], root, 300_000);
  tmp = await mkdtemp(join(tmpdir(), 'flo-rx-package-'));
  // --ignore-scripts: pack the build just made (prepack would build it again).
  const pack = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], root);
  const info = (JSON.parse(pack.stdout) as Array<typeof packed & { filename: string }>)[0]!;
  packed = info;
  tarball = join(tmp, info.filename);
  app = join(tmp, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'flo-rx-consumer', version: '1.0.0', private: true }, null, 2));
  await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...(await peerSpecs())], app, 240_000);
  for (const f of ['require-all.cjs', 'import-all.mjs']) await copyFile(join(fixtures, f), join(app, f));
  const consumer = await readFile(join(fixtures, 'consumer.ts'), 'utf8');
  // The same consumer as an ES module (.mts), a CommonJS module (.cts) and for bundlers (.ts).
  for (const ext of ['mts', 'cts', 'ts']) await writeFile(join(app, `consumer.${ext}`), consumer);
  const quickStart = readmeCodeBlock('Quick start');
  for (const ext of ['mts', 'ts']) await writeFile(join(app, `quick-start.${ext}`), quickStart);
  const modularExample = readmeCodeBlock('Modular entry: `flo-rx/modular`');
  for (const ext of ['mts', 'ts']) await writeFile(join(app, `modular-example.${ext}`), modularExample);
  // As the README says: without its type arguments, the same code is plain JavaScript for node.
  await writeFile(join(app, 'quick-start.mjs'), quickStart.replace(/<\{[^}]*\}>/g, ''));
  console.log(`flo-rx ${pkg.version}: tarball ${(packed.size / 1024).toFixed(1)} KiB, unpacked ${(packed.unpackedSize / 1024).toFixed(1)} KiB, ${packed.files.length} files`);
}, 300_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('the tarball', () => {
  it('is built by `npm pack` itself (prepack), so a fresh clone packs a working package', () => {
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('carries the build, the command, the page and the legal files; no sources, tests or maps', () => {
    const files = packed.files.map((f) => f.path);
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'docs/protocol-decisions.md', 'bin/flo-rx.js', 'dist/cli.js', 'dist/ui/index.html', 'dist/ui/app.js']) expect(files).toContain(f);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (subpath === './package.json') continue;
      const t = target as { import: { types: string; default: string }; require: { types: string; default: string } };
      for (const path of [t.import.types, t.import.default, t.require.types, t.require.default]) expect(files).toContain(path.slice(2));
    }
    expect(files.filter((f) => /^(src|test|examples|scripts|bench)\/|\.map$/.test(f))).toEqual([]);
  });
});

describe('installed into an empty app', () => {
  it("runs the README's quick start, verbatim, as an ES module, and exits 0", async () => {
    const r = await run(bin('tsx'), ['quick-start.mts'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(QUICK_START_OUTPUT);
    expect(r.code).toBe(0);
  });

  it('runs the quick start without its type arguments as plain JavaScript with node', async () => {
    const r = await run(process.execPath, ['quick-start.mjs'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(QUICK_START_OUTPUT);
    expect(r.code).toBe(0);
  });

  it('require()s every entry from CommonJS: connects, puts, gets, and instanceof holds across entries', async () => {
    const r = await run(process.execPath, ['require-all.cjs'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ entries: entryIds, ok: true });
    expect(r.code).toBe(0);
  });

  it('import()s every entry from an ES module, one copy of the classes', async () => {
    const r = await run(process.execPath, ['import-all.mjs'], app, 60_000);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({ entries: entryIds, ok: true });
  });

  it.each([
    ['node16 (ESM)', { module: 'node16', moduleResolution: 'node16' }, ['consumer.mts', 'quick-start.mts', 'modular-example.mts']],
    ['node16 (CommonJS)', { module: 'node16', moduleResolution: 'node16' }, ['consumer.cts']],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }, ['consumer.ts', 'quick-start.ts', 'modular-example.ts']],
  ])('type-checks a consumer, the quick start and the modular example with tsc --strict, moduleResolution %s', async (name, compilerOptions, files) => {
    const config = `tsconfig.${name.replace(/\W+/g, '-')}.json`;
    await writeFile(
      join(app, config),
      JSON.stringify({
        compilerOptions: { ...compilerOptions, target: 'es2022', lib: ['es2022'], strict: true, noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(root, 'node_modules/@types')] },
        files,
      }),
    );
    const r = await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', config], app);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('the flo-rx command: --version, the demo, and ui serving the prebuilt page next to an embedded server', async () => {
    const cli = join(app, 'node_modules/.bin/flo-rx');
    expect((await ok(cli, ['--version'], app)).stdout.trim()).toBe(pkg.version);
    expect((await ok(cli, ['demo', '--events', '100', '--quiet'], app, 60_000)).stdout).toMatch(/^demo OK: 100 events processed/m);
    const child = spawn(cli, ['ui', '--port', '0', '--flo-port', '0'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (out += b));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const m = /open (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.on('exit', (code) => reject(new Error(`flo-rx ui exited (${code}): ${out}`)));
      });
      const page = await fetch(url);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toMatch(/<meta name="flo-url" content="ws:\/\/127\.0\.0\.1:\d+">/);
      const script = await fetch(new URL('/app.js', url));
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect((await script.text()).length).toBeGreaterThan(10_000);
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

describe('package linters', () => {
  it('publint --strict: no errors or warnings', async () => {
    const r = await run(bin('publint'), ['run', tarball, '--strict'], root);
    console.log(`publint: ${r.stdout.trim()}`);
    expect(r.code).toBe(0);
  });

  it('@arethetypeswrong/cli: every entry resolves under node10, node16 (ESM and CJS) and bundler', async () => {
    const r = await run(bin('attw'), [tarball, '--no-definitely-typed', '--format', 'table-flipped', '--no-color', '--no-emoji'], root);
    console.log(`attw:\n${r.stdout.trim()}`);
    expect(r.stdout).toContain('No problems found');
    expect(r.code).toBe(0);
  });
});
