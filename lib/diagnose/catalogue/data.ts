/**
 * The failure catalogue's entries for failures while data flows (stage `data`).
 * @module
 */

import { libraryOptions } from "../audiences.ts";
import type { StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const DATA = {
  "data.keepalive-timeout": {
    stage: "data",
    title: "the server stopped answering keepalives",
    explanation: "Keepalive requests went unanswered, so the connection was declared dead: the " +
      "network path broke (link down, NAT or firewall state expired) or the server hung.",
    fix: "-o ServerAliveInterval=15 -o ServerAliveCountMax=6 (tolerate longer gaps)",
    opensshFix: "-o ServerAliveInterval=15 -o ServerAliveCountMax=6",
    libraryFix: libraryOptions({ keepalive: { intervalMs: 15_000, countMax: 6 } }),
  },
  "data.connection-closed": {
    stage: "data",
    title: "the connection is closed",
    explanation: "The connection ended while data was still expected (the server went away, or " +
      "the client closed it).",
    fix: "-o ServerAliveInterval=30 if idle sessions get cut",
    opensshFix: "-o ServerAliveInterval=30",
    libraryFix: libraryOptions({ keepalive: { intervalMs: 30_000, countMax: 3 } }),
  },
  "data.malformed-message": {
    stage: "data",
    title: "the server sent a malformed connection-layer message",
    explanation: "A channel message could not be decoded: a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.reply-flood": {
    stage: "data",
    title: "the server flooded the connection with requests and read none of the answers",
    explanation: "The server kept sending messages that need an answer (global or channel " +
      "requests that want a reply, channel opens) while it stopped reading ours, so the " +
      "answers piled up; the connection was ended before they could use up memory. A " +
      "hostile server, or one whose connection layer hung.",
    fix: "-vv to see the packets; report it to the server's owner with the trace",
    opensshFix: "-vvv",
  },
  "data.unknown-channel": {
    stage: "data",
    title: "the server used a channel that is not open",
    explanation: "The server sent a message for a channel number we never opened: a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.channel-closed": {
    stage: "data",
    title: "the channel is already closed",
    explanation: "Data or a request was sent on a channel that had already closed.",
    fix: null,
    opensshFix: null,
  },
  "data.write-after-eof": {
    stage: "data",
    title: "data sent after end of input",
    explanation: "End of input (EOF) was already sent on this channel; no more data may follow.",
    fix: null,
    opensshFix: null,
  },
  "data.message-before-open": {
    stage: "data",
    title: "the server used a channel before confirming it",
    explanation: "The server sent channel data before answering the channel open request: a " +
      "server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.unexpected-message": {
    stage: "data",
    title: "the server sent a message that is not allowed here",
    explanation: "A message arrived that is not allowed at this point (a channel message for an " +
      "already open channel, or a key exchange message outside a key exchange): a server bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
  "data.invalid-max-packet": {
    stage: "data",
    title: "the server confirmed a channel with a maximum packet size of 0",
    explanation: "No data could ever be sent on this channel: a server bug.",
    fix: null,
    opensshFix: null,
  },
  "data.window-overflow": {
    stage: "data",
    title: "the server grew the channel window beyond 4 GiB",
    explanation:
      "The flow-control window may not exceed 2^32-1 bytes (RFC 4254 §5.2): a server bug.",
    fix: null,
    opensshFix: null,
  },
  "data.packet-too-large": {
    stage: "data",
    title: "the server sent a channel packet larger than allowed",
    explanation: "The server ignored the maximum packet size we announced. Old devices sometimes " +
      "do; a smaller or larger announced size can avoid it.",
    fix: null,
    opensshFix: null,
  },
  "data.window-exceeded": {
    stage: "data",
    title: "the server sent more data than the window allows",
    explanation: "The server ignored flow control (RFC 4254 §5.2): a server bug.",
    fix: null,
    opensshFix: null,
  },
  "data.connection-reset": {
    stage: "data",
    title: "the connection was reset",
    explanation: "The TCP connection was cut after the session was up: a firewall or NAT dropped " +
      "an idle connection, the device reloaded, or an administrator cleared the line.",
    fix: "-o ServerAliveInterval=30 (keeps idle connections alive through firewalls)",
    opensshFix: "-o ServerAliveInterval=30",
    libraryFix: libraryOptions({ keepalive: { intervalMs: 30_000, countMax: 3 } }),
  },
  "data.output-incomplete": {
    stage: "data",
    title: "not everything the server sent reached the output",
    explanation: "The server's data arrived, but not all of it could be written to standard " +
      "output or error: the program reading the output stopped early (a closed pipe, e.g. " +
      "`| head`), the disk is full, or the file could not be written. The output is " +
      "incomplete, so the run does not count as a success.",
    fix: "check where the output goes (free disk space; a reader that reads to the end)",
    opensshFix: null,
  },
} satisfies StageEntries<"data">;
