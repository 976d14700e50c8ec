import type { ClientCore } from './core/index.js';

/** `flo.workflow`: every method returns a cold Observable. (Being built.) */
export class WorkflowApi {
  constructor(protected readonly core: ClientCore) {}
}
