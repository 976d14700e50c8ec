import type { ClientCore } from './core/index.js';

/** `flo.queue`: every method returns a cold Observable. (Being built.) */
export class QueueApi {
  constructor(protected readonly core: ClientCore) {}
}
