/**
 * The base of the items a read emits with their bytes in `payload` (queue messages, stream
 * records): `data<T>()` lives on the prototype, lazy and memoised (a decode failure is memoised
 * too and rethrown on every call). Its state is in private fields, so an item's own enumerable
 * properties stay the wire fields its class assigns (logging, spreading and `toEqual` see only
 * those). A class rather than `withData`: two `defineProperty` calls and a closure per item showed
 * in the consumer profile.
 */
import { LazilyDecoded } from './lazily-decoded.js';

/** An item whose bytes are its `payload` (queue messages, stream records). */
export abstract class PayloadItem extends LazilyDecoded {
  abstract readonly payload: Uint8Array;

  protected decodedBytes(): Uint8Array {
    return this.payload;
  }
}
