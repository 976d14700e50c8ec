// Loads the Go SDK's golden vectors: the request/reply frames of the Go SDK's golden tests, kept as
// copies in this repository (test/fixtures) so the tests need nothing outside it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import {
  decodeRequestBody,
  encodeRequest,
  fromHex,
  HEADER_SIZE,
  toHex,
  type OpPayload,
  type RequestBody,
} from '../src/protocol/index.js';

export interface Vector {
  name: string;
  sdk_call: string;
  opcode: number;
  opcode_name: string;
  namespace: string;
  key: string;
  value_hex: string;
  options_hex: string;
  request_id: number;
  payload_length: number;
  crc32_hex: string;
  frame_hex: string;
  response: {
    status: number;
    status_name: string;
    payload_hex: string;
    frame_hex: string;
    layout: string;
    sdk_parsed: unknown;
    sdk_error?: string;
  };
}

function load(file: string): Vector[] {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url)), 'utf8')) as Vector[];
}

export const requestVectors = load('requests.json');
export const moreVectors = load('more.json');
export const allVectors = [...requestVectors, ...moreVectors];

export function vector(name: string): Vector {
  const v = allVectors.find((x) => x.name === name);
  if (!v) throw new Error(`no vector named ${name}`);
  return v;
}

/**
 * Encodes a request as the client does and checks the whole frame against the vector's bytes;
 * returns the four sections the server sees.
 */
export function checkRequest(v: Vector, payload: OpPayload): RequestBody {
  expect(toHex(encodeRequest(BigInt(v.request_id), v.opcode, v.namespace, payload))).toBe(v.frame_hex);
  return decodeRequestBody(fromHex(v.frame_hex).subarray(HEADER_SIZE));
}

/** The vector's reply payload bytes. */
export const reply = (v: Vector): Uint8Array => fromHex(v.response.payload_hex);
