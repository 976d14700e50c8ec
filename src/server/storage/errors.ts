/** Errors of the storage layer. */

/** The server cannot start on this data directory (locked, missing, unwritable, corrupt). One line, for humans. */
export class StorageStartError extends Error {
  override name = 'StorageStartError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A turn's changes could not be written (disk full, I/O error): they were rolled back, not applied. */
export class StorageWriteError extends Error {
  override name = 'StorageWriteError';
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True for a `StorageStartError`. */
export const isStorageStartError = (err: unknown): err is StorageStartError => err instanceof StorageStartError;
/** True for a `StorageWriteError`. */
export const isStorageWriteError = (err: unknown): err is StorageWriteError => err instanceof StorageWriteError;
