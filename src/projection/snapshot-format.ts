/** The `format` field of the snapshots `project()` writes to KV (`project-run.ts` writes and checks it). */
export const SNAPSHOT_FORMAT = 'flo-rx.projection/1';
