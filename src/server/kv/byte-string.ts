/**
 * KV keys as "byte strings": one UTF-16 code unit per byte, so that string order is byte order and
 * a key can be a map key.
 */

/** Bytes per `String.fromCharCode` call (arguments are passed on the stack). */
const CHAR_CODES_PER_CALL = 4096;

/** Bytes → a string with one code unit per byte (order-preserving). */
export function byteString(b: Uint8Array): string {
  if (b.length <= 16) return shortByteString(b);
  // `apply` with the typed array itself: no iterator, no argument array (a spread cost ~6x more per key).
  if (b.length <= CHAR_CODES_PER_CALL) return String.fromCharCode.apply(null, b as unknown as number[]);
  let s = '';
  for (let i = 0; i < b.length; i += CHAR_CODES_PER_CALL) s += String.fromCharCode.apply(null, b.subarray(i, i + CHAR_CODES_PER_CALL) as unknown as number[]);
  return s;
}

const fromCharCode = String.fromCharCode;

/**
 * `byteString` of a short key (most keys): `fromCharCode` with as many arguments as bytes, which V8
 * calls directly, where `apply` takes its generic path (about 40 ns less per key, measured with the
 * map lookup that follows).
 */
function shortByteString(b: Uint8Array): string {
  switch (b.length) {
    case 0:
      return '';
    case 1:
      return fromCharCode(b[0]);
    case 2:
      return fromCharCode(b[0], b[1]);
    case 3:
      return fromCharCode(b[0], b[1], b[2]);
    case 4:
      return fromCharCode(b[0], b[1], b[2], b[3]);
    case 5:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4]);
    case 6:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5]);
    case 7:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6]);
    case 8:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
    case 9:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8]);
    case 10:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]);
    case 11:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10]);
    case 12:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]);
    case 13:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12]);
    case 14:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13]);
    case 15:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14]);
    case 16:
      return fromCharCode(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    default:
      return String.fromCharCode.apply(null, b as unknown as number[]);
  }
}

export function fromByteString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
