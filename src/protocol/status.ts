/** Wire status codes (response header byte 21), as the Go SDK and the server define them. */
export const Status = {
  OK: 0,
  ErrorGeneric: 1,
  NotFound: 2,
  BadRequest: 3,
  CrossCoreTransaction: 4,
  NoActiveTransaction: 5,
  GroupLocked: 6,
  Unauthorized: 7,
  Conflict: 8,
  InternalError: 9,
  Overloaded: 10,
  RateLimited: 11,
  Unavailable: 12,
} as const;

export type StatusCode = (typeof Status)[keyof typeof Status];

const STATUS_TEXT: Record<number, string> = {
  0: 'OK',
  1: 'Generic error',
  2: 'Not found',
  3: 'Bad request',
  4: 'Cross-core transaction not supported',
  5: 'No active transaction',
  6: 'Consumer group is locked',
  7: 'Unauthorized',
  8: 'Conflict',
  9: 'Internal server error',
  10: 'Server overloaded',
  11: 'Request rate limit exceeded',
  12: 'Unavailable',
};

/** The name of a wire status, for messages. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown error';
}
