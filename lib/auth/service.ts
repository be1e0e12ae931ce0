/** The service request that starts user authentication (RFC 4253 §10). @module */

import { SshError } from "../errors/mod.ts";
import type { MessageTransport } from "../transport/message_transport.ts";
import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { messageName, MSG } from "../wire/messages.ts";

/**
 * Asks the server for a service (normally `ssh-userauth`) and waits for SERVICE_ACCEPT.
 * Anything else (another message, a different service name, a closed connection) is an
 * `auth.service-refused` error.
 */
export async function requestService(
  transport: MessageTransport,
  service = "ssh-userauth",
): Promise<void> {
  await transport.send(
    new SshWriter().byte(MSG.SERVICE_REQUEST).string(service).bytes(),
    "auth",
  );
  const reply = await transport.receive(undefined, undefined, "auth");
  const refused = (why: string, extra: Record<string, unknown> = {}) =>
    new SshError(
      "auth",
      "auth.service-refused",
      `the server did not accept the ${service} service request: ${why}`,
      { service, ...extra },
    );
  if (reply === null) throw refused("the connection was closed");
  if (reply[0] !== MSG.SERVICE_ACCEPT) {
    throw refused(`it answered with ${messageName(reply[0] ?? -1)}`, { message: reply[0] });
  }
  let accepted: string;
  try {
    const r = new SshReader(reply, "SERVICE_ACCEPT");
    r.byte();
    // A few old servers omit the name; RFC 4253 §10 requires it, but nothing is lost without it.
    accepted = r.remaining === 0 ? service : r.text("service name");
  } catch (e) {
    if (e instanceof WireError) throw refused(e.message);
    throw e;
  }
  if (accepted !== service) throw refused(`it accepted "${accepted}" instead`);
  transport.tracer.emit({ stage: "auth", type: "service-accepted", service });
}
