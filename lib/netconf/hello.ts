/**
 * A NETCONF check (RFC 6241 over SSH, RFC 6242): open the `netconf` subsystem, send our
 * `<hello>` and read the server's, up to the `]]>]]>` end-of-message mark, and report its
 * session id and capabilities. Traced at stage `session`; the server's hello is bounded in size
 * and time, and anything else than a hello fails with what was received.
 * @module
 */

import type { Client } from "../client.ts";
import { SshError } from "../errors/mod.ts";

/** The end-of-message mark of NETCONF 1.0 framing, used for the hellos. */
export const EOM = "]]>]]>";

const OUR_HELLO = '<?xml version="1.0" encoding="UTF-8"?>' +
  '<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>' +
  "<capability>urn:ietf:params:netconf:base:1.0</capability>" +
  "<capability>urn:ietf:params:netconf:base:1.1</capability>" +
  "</capabilities></hello>" + EOM;

/** What the server said in its hello. */
export interface NetconfHello {
  sessionId: number | null;
  capabilities: string[];
  /** Both sides speak base:1.1 (chunked framing after the hellos). */
  base11: boolean;
}

/** Options of {@link netconfHello}. */
export interface NetconfOptions {
  /** @default 10000 */
  timeoutMs?: number;
  /** The largest hello accepted. @default 1 MiB */
  maxBytes?: number;
}

/** Parses a server hello (the text before `]]>]]>`); null when it is not a hello. */
export function parseHello(text: string): NetconfHello | null {
  if (!/<(?:\w+:)?hello[\s>]/.test(text)) return null;
  const capabilities = [
    ...text.matchAll(/<(?:\w+:)?capability>\s*([^<]*?)\s*<\/(?:\w+:)?capability>/g),
  ]
    .map((m) => m[1]!);
  if (capabilities.length === 0) return null;
  const id = /<(?:\w+:)?session-id>\s*(\d+)\s*</.exec(text);
  return {
    sessionId: id ? Number(id[1]) : null,
    capabilities,
    base11: capabilities.includes("urn:ietf:params:netconf:base:1.1"),
  };
}

function badHello(
  reason: "closed" | "too-large" | "not-a-hello" | "timeout",
  message: string,
  received: string,
): SshError {
  const excerpt = received.length > 160 ? received.slice(0, 160) + "…" : received;
  return new SshError("session", "session.netconf-bad-hello", message, {
    reason,
    received: received.length,
    excerpt,
  });
}

/**
 * Opens the `netconf` subsystem on `client`, exchanges hellos and closes the channel.
 *
 * @example
 * ```ts
 * const client = await connect({ host: "router", port: 830, user: "admin", auth });
 * const hello = await netconfHello(client);
 * console.log(hello.capabilities.join("\n"));
 * ```
 */
export async function netconfHello(
  client: Client,
  options: NetconfOptions = {},
): Promise<NetconfHello> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 1 << 20;
  const session = await client.openSession();
  const channel = session.channel.localId;
  // The exchange is this session's step: its failures are session-stage failures.
  const span = client.tracer.span("session");
  const info = (message: string) => client.tracer.emit({ stage: "session", type: "info", message });
  if (!(await session.subsystem("netconf"))) {
    await session.close().catch(() => {});
    throw new SshError(
      "session",
      "session.subsystem-refused",
      "the server refused the netconf subsystem",
      { channel, subsystem: "netconf" },
    );
  }
  await session.write(new TextEncoder().encode(OUR_HELLO));
  info("netconf: our <hello> sent (base:1.0, base:1.1)");
  const reader = session.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  try {
    for (;;) {
      const r = await Promise.race([reader.read(), timeout]);
      if (r === "timeout") {
        throw badHello(
          "timeout",
          `no NETCONF <hello> from the server within ${timeoutMs / 1000} s`,
          text,
        );
      }
      if (r.done) {
        throw badHello("closed", "the server closed the netconf channel before its <hello>", text);
      }
      text += decoder.decode(r.value, { stream: true });
      const end = text.indexOf(EOM);
      if (end >= 0) {
        const hello = parseHello(text.slice(0, end));
        if (!hello) {
          throw badHello(
            "not-a-hello",
            "the server's first NETCONF message is not a <hello>",
            text,
          );
        }
        info(
          `netconf: server <hello>: session-id ${hello.sessionId ?? "none"}, ` +
            `${hello.capabilities.length} capabilities` + (hello.base11 ? ", base:1.1" : ""),
        );
        span.end();
        return hello;
      }
      if (text.length > maxBytes) {
        throw badHello(
          "too-large",
          `the server's NETCONF <hello> passed ${maxBytes} bytes without its end mark`,
          text,
        );
      }
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
    await session.close().catch(() => {});
  }
}
