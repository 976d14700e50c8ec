export { DiskStorage, DEFAULT_COMPACT_AFTER_BYTES, type CommitGate, type DiskStorageOptions, type StorageIo, type StorageStats } from './disk-storage.js';
export { StorageStartError, StorageWriteError, isStorageStartError, isStorageWriteError } from './errors.js';
export { ABSENT, entityKeyWithId, FSYNC_MODES, HEX_ID_KEY, NO_CHANGE_LOG, REMOVED, type WillChange, type IdKeyForm, type FsyncMode, type PersistedTable, type Persistence } from './types.js';
