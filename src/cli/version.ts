import { createRequire } from 'node:module';

/** The package's version, read from its package.json (next to `dist/`, or two levels above `src/cli/`). */
export function packageVersion(): string {
  const require = createRequire(import.meta.url);
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(path) as { name?: string; version?: string };
      if (pkg.name === 'flo-rx' && pkg.version) return pkg.version;
    } catch {
      // try the next layout
    }
  }
  return 'unknown';
}
