/**
 * Agent forwarding (`-A`, ForwardAgent): each session asks for it
 * (`auth-agent-req@openssh.com`), and each `auth-agent@openssh.com` channel the server then
 * opens is carried to the local agent's socket. Traced with a warning: while connected, the
 * server (and whoever is root there) can use the agent's keys.
 * @module
 */

import type { ChannelOpen, ChannelOpenAnswer } from "../connection/types.ts";
import { platform } from "../platform/mod.ts";
import type { Tracer } from "../trace.ts";
import { carry } from "./pipe.ts";

/** The channel type a server opens to reach the forwarded agent. */
export const AGENT_CHANNEL = "auth-agent@openssh.com";
/** The session request that asks the server to offer the agent. */
export const AGENT_REQUEST = "auth-agent-req@openssh.com";

/** Agent channels carried at once, at most. */
const MAX_AGENT_CHANNELS = 16;

/** The warning traced when agent forwarding is asked for. */
export const AGENT_WARNING = "agent forwarding is on: while this connection lasts, the server " +
  "(and anyone with root there) can use your agent's keys to log in elsewhere as you";

/** Answers the server's agent channels by connecting each to `socketPath`. */
export function agentChannels(socketPath: string, tracer: Tracer) {
  let open = 0;
  let total = 0;
  const info = (message: string) =>
    tracer.emit({ stage: "data", type: "info", message: `forwarded agent: ${message}` });
  return (_open: ChannelOpen): ChannelOpenAnswer => {
    const id = ++total;
    if (open >= MAX_AGENT_CHANNELS) {
      info(`channel #${id} refused: ${MAX_AGENT_CHANNELS} already open`);
      return { refuse: 4, description: "too many agent channels" };
    }
    open++;
    return {
      accept: (channel) => {
        info(`the server uses the agent (channel ${channel.localId}, request ${id})`);
        (async () => {
          let conn;
          try {
            conn = await platform.connectUnix(socketPath);
          } catch (e) {
            info(`cannot reach the local agent at ${socketPath}: ${(e as Error).message}`);
            await channel.close().catch(() => {});
            return;
          }
          await carry(conn, channel);
        })().catch(() => {}).finally(() => open--);
      },
    };
  };
}
