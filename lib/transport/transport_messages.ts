/**
 * The transport-level messages of RFC 4253 §11 for either role: DISCONNECT (closes and throws
 * `<stage>.disconnect`), IGNORE, DEBUG, UNIMPLEMENTED, EXT_INFO (RFC 8308: the client keeps
 * server-sig-algs); unknown numbers get UNIMPLEMENTED, kex messages outside an exchange are
 * refused. Emits events through the handshake's tracer; never prints.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { DISCONNECT_REASONS, messageName, MSG } from "../wire/messages.ts";
import type { Handshake } from "./handshake.ts";

/** Handles `p` unless it is for the layers above (false); KEXINIT is the handshake's own. */
export async function handleTransportMessage(hs: Handshake, p: Uint8Array): Promise<boolean> {
  const type = p[0]!;
  const stage = hs.conn.stage;
  const tracer = hs.tracer;
  try {
    switch (type) {
      case MSG.DISCONNECT: {
        const r = new SshReader(p, "DISCONNECT");
        r.byte();
        const reasonCode = r.uint32("reason code");
        const description = r.text("description");
        const reason = DISCONNECT_REASONS[reasonCode] ?? "UNKNOWN";
        const from = hs.peer;
        tracer?.emit({ stage, type: "disconnect", from, reasonCode, reason, description });
        hs.close();
        throw new SshError(
          stage,
          `${stage}.disconnect`,
          `the ${from} disconnected: ${reason} (${reasonCode})` +
            (description ? `: ${description}` : ""),
          { reasonCode, reason, description },
        );
      }
      case MSG.IGNORE:
        tracer?.emit({ stage, type: "ignore", length: p.length - 1 });
        return true;
      case MSG.DEBUG: {
        const r = new SshReader(p, "DEBUG");
        r.byte();
        const alwaysDisplay = r.bool();
        const message = r.text("message");
        tracer?.emit({ stage, type: "debug", message, alwaysDisplay });
        return true;
      }
      case MSG.UNIMPLEMENTED: {
        const r = new SshReader(p, "UNIMPLEMENTED");
        r.byte();
        tracer?.emit({ stage, type: "unimplemented", sequence: r.uint32() });
        // After authentication the layers above see it too (keepalive counts it as an answer).
        return !hs.isAuthenticated;
      }
      case MSG.EXT_INFO:
        extInfo(hs, p);
        return true;
    }
  } catch (e) {
    if (e instanceof WireError) {
      throw new SshError(stage, `${stage}.bad-message`, `malformed ${e.message}`, {});
    }
    throw e;
  }
  if (type >= 50 || type === MSG.SERVICE_ACCEPT || type === MSG.SERVICE_REQUEST) return false;
  if (type === MSG.NEWKEYS || (type >= 30 && type < 50)) {
    throw new SshError(
      stage,
      `${stage}.unexpected-message`,
      `the ${hs.peer} sent ${messageName(type)} outside a key exchange`,
      { message: messageName(type) },
    );
  }
  const w = new SshWriter(8).byte(MSG.UNIMPLEMENTED).uint32(hs.conn.lastReadSeq);
  await hs.sendNow(w.bytes());
  return true;
}

function extInfo(hs: Handshake, p: Uint8Array): void {
  const r = new SshReader(p, "EXT_INFO");
  r.byte();
  const n = r.uint32("extension count");
  if (n > 64) throw new WireError(`EXT_INFO: ${n} extensions is absurd`);
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = r.text("extension name");
    const value = r.string("extension value");
    names.push(name);
    if (name === "server-sig-algs" && hs.role === "client") {
      hs.serverSigAlgs = new TextDecoder().decode(value).split(",").filter((s) => s);
    }
  }
  hs.tracer?.emit({
    stage: hs.conn.stage,
    type: "ext-info",
    extensions: names,
    serverSigAlgs: hs.serverSigAlgs,
  });
}

/** A DISCONNECT payload (RFC 4253 §11.1). */
export function disconnectMessage(reasonCode: number, description: string): Uint8Array {
  return new SshWriter(64).byte(MSG.DISCONNECT).uint32(reasonCode).string(description)
    .string("").bytes();
}

/** An EXT_INFO payload (RFC 8308 §2.3) with these extensions, in order. */
export function extInfoMessage(extensions: Record<string, string>): Uint8Array {
  const w = new SshWriter().byte(MSG.EXT_INFO).uint32(Object.keys(extensions).length);
  for (const [name, value] of Object.entries(extensions)) w.string(name).string(value);
  return w.bytes();
}
