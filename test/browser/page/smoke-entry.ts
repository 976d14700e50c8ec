/**
 * The smoke page's script (bundled for the browser by smoke.test.ts): opens a WebSocket with
 * webSocketTransport to the page's own host, sends two kv_get request frames in one message,
 * decodes the replies and shows them in #result.
 */
import { webSocketTransport } from '../../../src/connection/websocket.js';
import {
  decodeKvGetReply,
  encodeKvGet,
  encodeRequest,
  Op,
  ResponseFrameDecoder,
  utf8,
  type DecodedResponse,
} from '../../../src/protocol/index.js';

const text = new TextDecoder();
const $ = (id: string) => document.getElementById(id)!;

async function main(): Promise<void> {
  $('status').textContent = 'connecting';
  const decoder = new ResponseFrameDecoder();
  const replies: DecodedResponse[] = [];
  let wake: () => void = () => undefined;
  const factory = webSocketTransport({ authToken: 'browser-token' });
  const transport = await factory(`ws://${location.host}/flo`, {
    onData(chunk) {
      if (!(chunk instanceof Uint8Array)) throw new Error('chunk is not a Uint8Array');
      replies.push(...decoder.push(chunk));
      wake();
    },
    onClose(error) {
      $('closed').textContent = error ? `closed: ${error.message}` : 'closed';
      wake();
    },
  });
  $('status').textContent = 'open';

  const one = encodeRequest(1n, Op.KvGet, 'default', encodeKvGet({ key: utf8('greeting') }));
  const two = encodeRequest(2n, Op.KvGet, 'default', encodeKvGet({ key: utf8('planet') }));
  const batch = new Uint8Array(one.length + two.length);
  batch.set(one);
  batch.set(two, one.length);
  transport.send(batch);

  while (replies.length < 2) {
    if ($('closed').textContent) throw new Error($('closed').textContent ?? 'closed');
    await new Promise<void>((resolve) => (wake = resolve));
  }
  const lines = replies
    .sort((a, b) => Number(a.requestId - b.requestId))
    .map((r) => {
      const reply = decodeKvGetReply(r.payload);
      return `#${r.requestId} status=${r.status} crc=${r.checksumOk ? 'ok' : 'bad'} v${reply.version} ${text.decode(reply.value)}`;
    });
  $('result').textContent = lines.join('\n');
  $('result').setAttribute('data-done', 'true');
  transport.close();
  $('status').textContent = 'done';
}

main().catch((err: unknown) => {
  $('error').textContent = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  $('error').setAttribute('data-done', 'true');
});
