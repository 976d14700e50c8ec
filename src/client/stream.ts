import type { ClientCore } from './core/index.js';

/** `flo.stream`: every method returns a cold Observable. (Being built.) */
export class StreamApi {
  constructor(protected readonly core: ClientCore) {}
}
