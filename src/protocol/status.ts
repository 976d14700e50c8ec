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

/** The text of each status, indexed by its code. */
const STATUS_TEXT: readonly string[] = [
  'OK',
  'Generic error',
  'Not found',
  'Bad request',
  'Cross-core transaction not supported',
  'No active transaction',
  'Consumer group is locked',
  'Unauthorized',
  'Conflict',
  'Internal server error',
  'Server overloaded',
  'Request rate limit exceeded',
  'Unavailable',
];

/** The name of a wire status, for messages. */
export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown error';
}
