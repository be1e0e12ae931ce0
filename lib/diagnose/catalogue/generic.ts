/**
 * The catalogue's generic words per stage, for an error code it does not know (a bug: every
 * code thrown has an entry; these keep an explanation even then).
 * @module
 */

import type { Stage } from "../../types.ts";
import type { FailureText } from "./types.ts";

/** Generic words per stage, for codes the catalogue does not know. */
export const GENERIC_BY_STAGE: Record<Stage | "usage", FailureText> = {
  usage: {
    title: "invalid command line",
    explanation: "The command line could not be used as given; nothing was sent.",
    fix: "sshtrace --help",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  config: {
    title: "the configuration could not be used",
    explanation: "ssh_config or the command line's -o options could not be read into the " +
      "options of a connection; nothing was sent.",
    fix: "sshtrace -G -v HOST to see how the configuration was read",
    opensshFix: "ssh -G HOST",
    libraryFix: null,
    securityCost: null,
  },
  connect: {
    title: "the TCP connection failed",
    explanation: "No TCP connection to the server could be made.",
    fix: "check the address and port",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  version: {
    title: "the SSH version exchange failed",
    explanation: "The server did not answer with a usable SSH version line.",
    fix: "check the port and the device's SSH service",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  kex: {
    title: "the key exchange failed",
    explanation: "Client and server could not agree on keys; the trace above shows both " +
      "algorithm lists (-v for all of them).",
    fix: "-v to compare both algorithm lists",
    opensshFix: "-vv",
    libraryFix: null,
    securityCost: null,
  },
  hostkey: {
    title: "the host key was not accepted",
    explanation: "The server's host key could not be trusted.",
    fix: null,
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  auth: {
    title: "authentication failed",
    explanation: "The server did not accept any authentication we could offer.",
    fix: "-i KEY or --password-env VAR",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  session: {
    title: "the session could not be started",
    explanation: "The server refused or broke off the session after logging in.",
    fix: null,
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  data: {
    title: "the connection failed while transferring data",
    explanation: "The session was running when the connection failed.",
    fix: null,
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
  transfer: {
    title: "the file transfer failed",
    explanation: "The connection and login worked; copying the file (SFTP or SCP) failed.",
    fix: "-v to see each transfer step",
    opensshFix: null,
    libraryFix: null,
    securityCost: null,
  },
};
