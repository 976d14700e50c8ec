// Value codecs. `msgpackCodec` lives in './msgpack.js' and is deliberately not re-exported here
// (see that file): importing this index must not pull in `msgpackr`.
export { CodecError, type ValueCodec } from './types.js';
export { jsonCodec } from './json.js';
export { textCodec } from './text.js';
export { rawCodec } from './raw.js';
export { toPayload, lazyData, withData, type DataAccessor } from './payload.js';
