import { describe, expect, it } from 'vitest';
import {
  crc32,
  decodeRequestBody,
  decodeRequestBodyAt,
  encodeRejectFrame,
  encodeRequest,
  encodeResponseFrame,
  encodeResponseHeaderAt,
  encodeResponseInto,
  encodeRequestBody,
  fromHex,
  ProtocolError,
  InvalidFrameError,
  FrameTooLargeError,
  RequestFrameDecoder,
  ResponseFrameDecoder,
  toHex,
  utf8,
} from '../../src/protocol/index.js';
import { allVectors } from '../vectors.js';

describe('crc32', () => {
  it('matches the IEEE check value', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926);
  });
});

describe('request frames reproduce every Go SDK vector byte for byte', () => {
  for (const v of allVectors) {
    it(v.name, () => {
      const frame = encodeRequest(BigInt(v.request_id), v.opcode, v.namespace, {
        key: utf8(v.key),
        value: fromHex(v.value_hex),
        options: fromHex(v.options_hex),
      });
      expect(toHex(frame)).toBe(v.frame_hex);
      const [decoded] = new RequestFrameDecoder().push(fromHex(v.frame_hex));
      expect(decoded.checksumOk).toBe(true);
      expect(decoded.opcode).toBe(v.opcode);
      expect(decoded.requestId).toBe(BigInt(v.request_id));
      const body = decodeRequestBody(decoded.payload);
      expect(new TextDecoder().decode(body.namespace)).toBe(v.namespace);
      expect(new TextDecoder().decode(body.key)).toBe(v.key);
      expect(toHex(body.value)).toBe(v.value_hex);
      expect(toHex(body.options)).toBe(v.options_hex);
    });
  }
});

describe('response frames reproduce every vector reply', () => {
  for (const v of allVectors) {
    it(v.name, () => {
      const frame = encodeResponseFrame(BigInt(v.request_id), v.response.status, fromHex(v.response.payload_hex));
      expect(toHex(frame)).toBe(v.response.frame_hex);
      const [decoded] = new ResponseFrameDecoder().push(frame);
      expect(decoded.status).toBe(v.response.status);
      expect(decoded.checksumOk).toBe(true);
      expect(toHex(decoded.payload)).toBe(v.response.payload_hex);
    });
  }
});

describe('response frames written into a shared buffer', () => {
  it('encodeResponseInto writes every vector reply byte for byte at any offset, over stale bytes', () => {
    const target = new Uint8Array(64 * 1024).fill(0xff);
    const view = new DataView(target.buffer);
    let at = 3;
    const spans: Array<[number, number, string]> = [];
    for (const v of allVectors) {
      const end = encodeResponseInto(target, view, at, BigInt(v.request_id), v.response.status, fromHex(v.response.payload_hex));
      spans.push([at, end, v.response.frame_hex]);
      at = end;
    }
    for (const [start, end, hex] of spans) expect(toHex(target.subarray(start, end))).toBe(hex);
    const decoded = new ResponseFrameDecoder().push(target.subarray(3, at));
    expect(decoded).toHaveLength(allVectors.length);
    expect(decoded.every((f) => f.checksumOk)).toBe(true);
  });

  it('encodeResponseHeaderAt seals a payload already in place', () => {
    for (const v of allVectors.slice(0, 8)) {
      const payload = fromHex(v.response.payload_hex);
      const target = new Uint8Array(40 + payload.length).fill(0xaa);
      target.set(payload, 7 + 32);
      const end = encodeResponseHeaderAt(target, new DataView(target.buffer), 7, BigInt(v.request_id), v.response.status, payload.length);
      expect(end).toBe(7 + 32 + payload.length);
      expect(toHex(target.subarray(7, end))).toBe(v.response.frame_hex);
      expect(toHex(target.subarray(7, end))).toBe(toHex(encodeResponseFrame(BigInt(v.request_id), v.response.status, payload)));
    }
  });

  it('refuses a target without room', () => {
    const target = new Uint8Array(40);
    expect(() => encodeResponseInto(target, new DataView(target.buffer), 0, 1n, 0, new Uint8Array(9))).toThrow(RangeError);
  });
});

describe('decodeRequestBody', () => {
  const full = encodeRequestBody({ namespace: utf8('ns'), key: utf8('key'), value: utf8('value'), options: new Uint8Array([1, 1, 7]) });

  it('reads the four sections, and an empty payload as four empty ones', () => {
    const b = decodeRequestBody(full);
    expect([b.namespace, b.key, b.value].map((x) => new TextDecoder().decode(x))).toEqual(['ns', 'key', 'value']);
    expect([...b.options]).toEqual([1, 1, 7]);
    const empty = decodeRequestBody(new Uint8Array(0));
    expect([empty.namespace.length, empty.key.length, empty.value.length, empty.options.length]).toEqual([0, 0, 0, 0]);
  });

  it('reads a missing or overrunning options section as empty and ignores trailing bytes', () => {
    expect(decodeRequestBody(full.subarray(0, full.length - 5)).options.length).toBe(0); // no options section
    const over = full.slice();
    over[full.length - 5] = 200; // options length overruns
    expect(decodeRequestBody(over).options.length).toBe(0);
    const trailing = new Uint8Array(full.length + 3);
    trailing.set(full);
    expect([...decodeRequestBody(trailing).options]).toEqual([1, 1, 7]);
  });

  it('refuses an overrunning namespace, key or value with a ProtocolError naming it', () => {
    expect(() => decodeRequestBody(new Uint8Array([5]))).toThrow('truncated request payload: namespace needs 2 byte(s) at offset 0, 1 left');
    expect(() => decodeRequestBody(new Uint8Array([5, 0, 1]))).toThrow('truncated request payload: namespace needs 5 byte(s) at offset 2, 1 left');
    expect(() => decodeRequestBody(full.subarray(0, 6))).toThrow('truncated request payload: key needs 3 byte(s) at offset 6, 0 left');
    expect(() => decodeRequestBody(full.subarray(0, 12))).toThrow('truncated request payload: value needs 4 byte(s) at offset 9, 3 left');
    expect(() => decodeRequestBody(full.subarray(0, 14))).toThrow('truncated request payload: value needs 5 byte(s) at offset 13, 1 left');
    expect(() => decodeRequestBody(full.subarray(0, 14))).toThrow(ProtocolError);
  });
});

describe('decodeRequestBodyAt', () => {
  const full = encodeRequestBody({ namespace: utf8('ns'), key: utf8('key'), value: utf8('value'), options: new Uint8Array([1, 1, 7]) });
  const framed = new Uint8Array(7 + full.length + 4).fill(0xee);
  framed.set(full, 7);
  const hex = (b: { namespace: Uint8Array; key: Uint8Array; value: Uint8Array; options: Uint8Array }) =>
    [b.namespace, b.key, b.value, b.options].map(toHex);

  it('reads the payload in place as decodeRequestBody reads it alone', () => {
    expect(hex(decodeRequestBodyAt(framed, 7, 7 + full.length))).toEqual(hex(decodeRequestBody(full)));
    expect(hex(decodeRequestBodyAt(framed, 7, 7))).toEqual(['', '', '', '']);
  });

  it('counts the offsets in its errors from the payload start', () => {
    expect(() => decodeRequestBodyAt(framed, 7, 7 + 12)).toThrow('truncated request payload: value needs 4 byte(s) at offset 9, 3 left');
  });

  it('hands back a known namespace array when the bytes equal it, a view of the bytes otherwise', () => {
    const known = utf8('ns');
    expect(decodeRequestBodyAt(framed, 7, 7 + full.length, known).namespace).toBe(known);
    const other = utf8('nt');
    const body = decodeRequestBodyAt(framed, 7, 7 + full.length, other);
    expect(body.namespace).not.toBe(other);
    expect(new TextDecoder().decode(body.namespace)).toBe('ns');
    expect(decodeRequestBodyAt(framed, 7, 7 + full.length, utf8('n')).namespace.length).toBe(2);
  });
});

describe('frame decoder', () => {
  const frames = allVectors.slice(0, 12).map((v) => fromHex(v.frame_hex));
  const all = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  frames.reduce((at, f) => (all.set(f, at), at + f.length), 0);

  it('decodes frames split at every byte', () => {
    const d = new RequestFrameDecoder();
    const out = [];
    for (let i = 0; i < all.length; i++) out.push(...d.push(all.subarray(i, i + 1)));
    expect(out.map((f) => f.opcode)).toEqual(allVectors.slice(0, 12).map((v) => v.opcode));
    expect(d.buffered).toBe(0);
  });

  it('decodes many frames in one chunk', () => {
    const out = new RequestFrameDecoder().push(all);
    expect(out).toHaveLength(12);
    expect(out.every((f) => f.checksumOk)).toBe(true);
  });

  it('rejects a bad magic as soon as the header is in', () => {
    const bad = all.slice(0, 32);
    bad[0] = 0x47;
    expect(() => new RequestFrameDecoder().push(bad)).toThrow(InvalidFrameError);
  });

  it('rejects non-zero reserved bytes and a wrong version', () => {
    const r = all.slice(0, 32);
    r[30] = 1;
    expect(() => new RequestFrameDecoder().push(r)).toThrowError(/reserved/);
    const v = all.slice(0, 32);
    v[22] = 2;
    expect(() => new RequestFrameDecoder().push(v)).toThrowError(/version/);
  });

  it('rejects an oversized frame before its payload arrives', () => {
    const big = all.slice(0, 32);
    new DataView(big.buffer).setUint32(4, 2048, true);
    expect(() => new RequestFrameDecoder({ maxPayload: 1024 }).push(big)).toThrow(FrameTooLargeError);
  });

  it('flags a checksum mismatch on the frame', () => {
    const f = frames[0].slice();
    f[f.length - 1] ^= 0xff;
    const [d] = new RequestFrameDecoder().push(f);
    expect(d.checksumOk).toBe(false);
  });

  it('stays failed after a fatal error', () => {
    const d = new RequestFrameDecoder();
    const bad = all.slice(0, 32);
    bad[1] = 0;
    expect(() => d.push(bad)).toThrow();
    expect(() => d.push(frames[0])).toThrow();
  });

  it('encodes the reject frame exactly as Flo sends it', () => {
    expect(toHex(encodeRejectFrame())).toBe(
      '464c4f000f00000000000000000000007f1bb07c01030000' + '0000000000000000' + toHex(utf8('Invalid request')),
    );
  });
});
