import type { ClientCore } from './core/index.js';

/** `flo.actions`: every method returns a cold Observable. (Being built.) */
export class ActionsApi {
  constructor(protected readonly core: ClientCore) {}
}
