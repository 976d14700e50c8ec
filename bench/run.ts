/**
 * Runs every benchmark in turn: `npm run bench`, or only some: `npm run bench -- compare roundtrip`.
 * Each bench module exports `main()`; add new ones to the list below. `compare` (flo-rx next to
 * Redis) runs last so its table ends the output.
 */
const benches: Array<{ name: string; load: () => Promise<{ main: () => Promise<unknown> }> }> = [
  { name: 'roundtrip', load: () => import('./roundtrip.js') },
  { name: 'request-path', load: () => import('./request-path.js') },
  { name: 'consume', load: () => import('./consume.js') },
  { name: 'queue-memory', load: () => import('./queue-memory.js') },
  { name: 'durability', load: () => import('./durability.js') },
  { name: 'processing', load: () => import('./processing.js') },
  { name: 'compare', load: () => import('./compare.js') },
];

const only = process.argv.slice(2);
const unknown = only.filter((name) => !benches.some((b) => b.name === name));
if (unknown.length > 0) {
  console.error(`unknown bench(es): ${unknown.join(', ')}; known: ${benches.map((b) => b.name).join(', ')}`);
  process.exit(2);
}

for (const bench of benches) {
  if (only.length > 0 && !only.includes(bench.name)) continue;
  console.log(`\n== ${bench.name} ==`);
  const mod = await bench.load();
  await mod.main();
}
