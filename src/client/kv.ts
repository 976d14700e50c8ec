import type { ClientCore } from './core/index.js';

/** `flo.kv`: every method returns a cold Observable. (Being built.) */
export class KvApi {
  constructor(protected readonly core: ClientCore) {}
}
