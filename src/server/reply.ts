import { BadRequestError, ConflictError, NotFoundError, Status, UnauthorizedError, EMPTY } from '../protocol/index.js';
import type { Reply } from './types.js';

export const ok = (payload: Uint8Array = EMPTY): Reply => ({ status: Status.OK, payload });
export const notFound = (message = ''): NotFoundError => new NotFoundError(Status.NotFound, message);
export const badRequest = (message: string): BadRequestError => new BadRequestError(Status.BadRequest, message);
export const conflict = (message = ''): ConflictError => new ConflictError(Status.Conflict, message);
export const unauthorized = (message: string): UnauthorizedError => new UnauthorizedError(Status.Unauthorized, message);
