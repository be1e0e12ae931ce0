/**
 * Fault profiles of the service request and user authentication (RFC 4252).
 * @module
 */

import { concatBytes, SshWriter } from "../../wire/buffer.ts";
import { MSG } from "../../wire/messages.ts";
import type { FaultProfile } from "./mod.ts";
import { closeAt, enc, fast, sendThenSilent, silentAt } from "./_helpers.ts";

/** Faults in the service request and authentication. */
export const AUTH_FAULTS: readonly FaultProfile[] = [
  {
    name: "ext-info-absurd",
    summary: "sends an EXT_INFO claiming 100000 extensions",
    expect: { stage: "auth", code: "auth.bad-message" },
    config: fast,
    hooks: {
      at: {
        "after-newkeys": async (io) => {
          await io.send(new SshWriter().byte(MSG.EXT_INFO).uint32(100_000).bytes());
        },
      },
    },
  },
  {
    name: "silent-service",
    summary: "never answers the ssh-userauth service request",
    expect: { stage: "auth", code: "auth.timeout" },
    config: fast,
    hooks: silentAt("service-request"),
  },
  {
    name: "truncated-service-accept",
    summary: "sends a SERVICE_ACCEPT whose service name is cut short",
    expect: { stage: "auth", code: "auth.service-refused" },
    config: fast,
    hooks: sendThenSilent(
      "service-request",
      () => concatBytes(new Uint8Array([MSG.SERVICE_ACCEPT, 0, 0, 0, 12]), enc.encode("ssh-")),
    ),
  },
  {
    name: "silent-auth",
    summary: "accepts the service, then never answers an authentication request",
    expect: { stage: "auth", code: "auth.timeout" },
    config: fast,
    hooks: silentAt("userauth-request"),
  },
  {
    name: "close-auth",
    summary: "closes the connection on the first authentication request",
    expect: { stage: "auth", code: "auth.connection-closed" },
    config: fast,
    hooks: closeAt("userauth-request"),
  },
  {
    name: "truncated-userauth-failure",
    summary: "answers with a USERAUTH_FAILURE whose method list is cut short",
    expect: { stage: "auth", code: "auth.protocol" },
    config: fast,
    hooks: sendThenSilent(
      "userauth-request",
      () => concatBytes(new Uint8Array([MSG.USERAUTH_FAILURE, 0, 0, 0, 40]), enc.encode("pass")),
    ),
  },
];
