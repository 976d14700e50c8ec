// Modular entry point (`flo-rx/modular`): one function per operation over a `FloContext`, so a
// browser bundle carries only what the application calls. Universal: imports no `node:` module.
export { openFlo, type FloContext, type FloContextOptions } from './context.js';
export { openFloDirect, type FloDirectOptions } from './direct.js';
export { kvGet, kvPut, kvDelete, kvExists, kvIncr } from './kv.js';
export type {
  KvKey, KvEntry, KvWriteResult, KvCallOptions, KvGetOptions, KvPutOptions, KvDeleteOptions, KvIncrOptions, Int64Like,
} from '../client/kv.js';
