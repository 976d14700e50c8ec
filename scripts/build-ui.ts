/**
 * Prebuilds the board page that `flo-rx ui` serves, so the command works from the installed package
 * (which has no esbuild and no page sources): bundles `examples/event-sourced-ui/main.ts` for
 * browsers (rxjs included; `ws` left out: browsers have their own WebSocket) into `dist/ui/app.js`
 * and copies the page's other files (index.html, styles) next to it. Run by `npm run build`.
 *
 *   npx tsx scripts/build-ui.ts [outDir]
 */
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Where the page's sources live (owned by the example). */
export const PAGE_SOURCE_DIR = join(root, 'examples/event-sourced-ui');
/** The page's script, bundled to `app.js` (index.html loads `/app.js`). */
const PAGE_ENTRY = 'main.ts';
/** Files of the page that are copied as they are. */
const isStaticAsset = (name: string) => /\.(html|css|svg|png|ico|webmanifest)$/i.test(name);

export async function buildUi(outDir = join(root, 'dist/ui')): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [join(PAGE_SOURCE_DIR, PAGE_ENTRY)],
    outfile: join(outDir, 'app.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    external: ['ws'],
    legalComments: 'none',
    logLevel: 'warning',
  });
  const copied = (await readdir(PAGE_SOURCE_DIR)).filter(isStaticAsset);
  await Promise.all(copied.map((name) => copyFile(join(PAGE_SOURCE_DIR, name), join(outDir, name))));
  return ['app.js', ...copied];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const files = await buildUi(process.argv[2]);
  console.log(`board page built: ${files.join(', ')}`);
}
