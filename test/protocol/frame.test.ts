import { describe, expect, it } from 'vitest';
import {
  crc32,
  decodeRequestBody,
  encodeRejectFrame,
  encodeRequest,
  encodeResponseFrame,
  fromHex,
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
