/**
 * For connection tests (over the FakeTransport of test/helpers/fake_transport.ts): the messages
 * a scripted server sends, and small waits and readers.
 * @module
 */

import { SshWriter } from "../../lib/wire/buffer.ts";
import { MSG } from "../../lib/wire/messages.ts";

/** Lets queued promise callbacks and the dispatch loop run. */
export function settle(ms = 5): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const text = (s: string | Uint8Array) => (typeof s === "string" ? new TextEncoder().encode(s) : s);

/** Builders for messages the scripted server sends. */
export const server = {
  openConfirmation(recipient: number, sender: number, window: number, maxPacket: number) {
    return new SshWriter().byte(MSG.CHANNEL_OPEN_CONFIRMATION).uint32(recipient).uint32(sender)
      .uint32(window).uint32(maxPacket).bytes();
  },
  openFailure(recipient: number, reason: number, description: string) {
    return new SshWriter().byte(MSG.CHANNEL_OPEN_FAILURE).uint32(recipient).uint32(reason)
      .string(description).string("").bytes();
  },
  channelOpen(type: string, sender: number, window = 65536, maxPacket = 32768) {
    return new SshWriter().byte(MSG.CHANNEL_OPEN).string(type).uint32(sender).uint32(window)
      .uint32(maxPacket).bytes();
  },
  windowAdjust(recipient: number, bytes: number) {
    return new SshWriter().byte(MSG.CHANNEL_WINDOW_ADJUST).uint32(recipient).uint32(bytes).bytes();
  },
  data(recipient: number, data: string | Uint8Array) {
    return new SshWriter().byte(MSG.CHANNEL_DATA).uint32(recipient).string(text(data)).bytes();
  },
  extendedData(recipient: number, code: number, data: string | Uint8Array) {
    return new SshWriter().byte(MSG.CHANNEL_EXTENDED_DATA).uint32(recipient).uint32(code)
      .string(text(data)).bytes();
  },
  eof(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_EOF).uint32(recipient).bytes();
  },
  close(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_CLOSE).uint32(recipient).bytes();
  },
  request(
    recipient: number,
    type: string,
    wantReply: boolean,
    data: Uint8Array = new Uint8Array(0),
  ) {
    return new SshWriter().byte(MSG.CHANNEL_REQUEST).uint32(recipient).string(type)
      .bool(wantReply).raw(data).bytes();
  },
  exitStatus(recipient: number, status: number) {
    return server.request(recipient, "exit-status", false, new SshWriter().uint32(status).bytes());
  },
  exitSignal(recipient: number, name: string, coreDumped: boolean, message: string) {
    return server.request(
      recipient,
      "exit-signal",
      false,
      new SshWriter().string(name).bool(coreDumped).string(message).string("").bytes(),
    );
  },
  success(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_SUCCESS).uint32(recipient).bytes();
  },
  failure(recipient: number) {
    return new SshWriter().byte(MSG.CHANNEL_FAILURE).uint32(recipient).bytes();
  },
  globalRequest(name: string, wantReply: boolean, data: Uint8Array = new Uint8Array(0)) {
    return new SshWriter().byte(MSG.GLOBAL_REQUEST).string(name).bool(wantReply).raw(data)
      .bytes();
  },
  requestSuccess(data: Uint8Array = new Uint8Array(0)) {
    return new SshWriter().byte(MSG.REQUEST_SUCCESS).raw(data).bytes();
  },
  requestFailure() {
    return new Uint8Array([MSG.REQUEST_FAILURE]);
  },
};

/** Reads a stream to the end and decodes it as UTF-8. */
export async function readText(stream: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of stream) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}
