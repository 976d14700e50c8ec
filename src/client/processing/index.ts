// flo.processing: the API (universal) and its types. The Node file helpers are exported from `src/node.ts`.
export { ProcessingApi } from './api.js';
export type {
  ProcessingJobInfo, ProcessingJobSummary, ProcessingJobPage, ProcessingSyncResult, ProcessingListOptions, ProcessingWatchOptions,
  ProcessingJobStatusName,
} from './api.js';
