/**
 * Runs every benchmark in turn: `npm run bench`. Each bench module exports `main()`; add new ones
 * to the list below.
 */
const benches: Array<{ name: string; load: () => Promise<{ main: () => Promise<unknown> }> }> = [
  { name: 'roundtrip', load: () => import('./roundtrip.js') },
  { name: 'request-path', load: () => import('./request-path.js') },
  { name: 'consume', load: () => import('./consume.js') },
  { name: 'queue-memory', load: () => import('./queue-memory.js') },
  { name: 'durability', load: () => import('./durability.js') },
  { name: 'processing', load: () => import('./processing.js') },
];

for (const bench of benches) {
  console.log(`\n== ${bench.name} ==`);
  const mod = await bench.load();
  await mod.main();
}
