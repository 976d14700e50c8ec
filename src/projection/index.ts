// Read models for UIs: `project()` folds a stream into shared live state, `connectionStatus()` shows the connection.
export { project, SNAPSHOT_FORMAT, type ProjectOptions, type ProjectionSnapshotOptions, type ProjectionState, type ProjectionStatus } from './project.js';
export { projectionResets, type ProjectionReset, type ProjectionResetReason } from './reset.js';
export { connectionStatus, connectionLabel, type ConnectionStatus, type ConnectionStatusOptions } from './connection-status.js';
export type { ProjectionClient, ProjectionKvApi, ProjectionRecord, ProjectionStreamApi, ReplayFrom } from './types.js';
