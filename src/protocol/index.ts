// Pure protocol layer: bytes in, bytes out. No I/O, no RxJS; shared by client and server.
export * from './bytes.js';
export * from './crc32.js';
export * from './errors.js';
export * from './limits.js';
export * from './status.js';
export * from './opcodes.js';
export * from './options.js';
export * from './frame.js';
export * from './decoder.js';
export * from './kv.js';
export * from './kv-reply-writer.js';
export * from './action.js';
export * from './worker.js';
export * from './workflow.js';
export * from './processing.js';
export * from './queue.js';
export * from './stream.js';
