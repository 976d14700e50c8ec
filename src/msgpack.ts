// `flo-rx/msgpack`: the MessagePack value codec (pulls in `msgpackr`, so it has its own entry).
export { msgpackCodec, createMsgpackCodec } from './codec/msgpack.js';
