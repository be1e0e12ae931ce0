/** Hand-built trace events of realistic runs, shared by the renderer and report tests. @module */

import type { TraceEvent, TraceEventBody } from "../../lib/trace.ts";
import type { AlgorithmLists, Decision } from "../../lib/types.ts";
import { SshError } from "../../lib/errors/mod.ts";

export const CLIENT_LISTS: AlgorithmLists = {
  kex: ["curve25519-sha256", "ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"],
  hostKey: ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
  cipherC2S: ["chacha20-poly1305@openssh.com", "aes128-ctr"],
  cipherS2C: ["chacha20-poly1305@openssh.com", "aes128-ctr"],
  macC2S: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"],
  macS2C: ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-256"],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
};

export const SERVER_LISTS: AlgorithmLists = {
  kex: ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "kex-strict-s-v00@openssh.com"],
  hostKey: ["ssh-rsa"],
  cipherC2S: ["chacha20-poly1305@openssh.com", "aes256-ctr"],
  cipherS2C: ["chacha20-poly1305@openssh.com", "aes256-ctr"],
  macC2S: ["hmac-sha2-256-etm@openssh.com"],
  macS2C: ["hmac-sha2-256-etm@openssh.com"],
  compressionC2S: ["none", "zlib@openssh.com"],
  compressionS2C: ["none", "zlib@openssh.com"],
};

export const SSH_RSA_RISK = "SHA-1 signatures (collisions are practical)";

/** A decision as the negotiator records it: first of ours that the server also offers. */
export function decide(
  category: Decision["category"],
  ours: string[],
  theirs: string[],
  legacyRisk?: string,
): Decision {
  const chosen = ours.find((a) => theirs.includes(a)) ?? null;
  const d: Decision = {
    category,
    ours,
    theirs,
    chosen,
    rule: chosen === null ? "no algorithm in common" : "first client algorithm the server offers",
    firstChoiceMatch: chosen !== null && ours[0] === chosen && theirs[0] === chosen,
  };
  if (legacyRisk) d.legacyRisk = legacyRisk;
  return d;
}

export function decisions(client: AlgorithmLists, server: AlgorithmLists): Decision[] {
  return (Object.keys(client) as (keyof AlgorithmLists)[]).map((c) =>
    decide(c, client[c], server[c], c === "hostKey" ? SSH_RSA_RISK : undefined)
  );
}

const SHA256 = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
const OLD_SHA256 = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU";
const MD5 = "MD5:16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48";

/** Stamps bodies with times, in order. */
export function timed(items: [number, TraceEventBody][]): TraceEvent[] {
  return items.map(([t, body]) => ({ ...body, t }) as TraceEvent);
}

/** The part of a run up to and including the kex negotiation. */
function throughNegotiation(serverLists: AlgorithmLists): [number, TraceEventBody][] {
  return [
    [0, { stage: "connect", type: "begin" }],
    [0.2, { stage: "connect", type: "resolving", host: "127.0.0.1", port: 2222 }],
    [1.3, {
      stage: "connect",
      type: "connected",
      host: "127.0.0.1",
      port: 2222,
      remoteAddress: "127.0.0.1",
    }],
    [1.3, { stage: "connect", type: "end", ms: 1.3 }],
    [1.3, { stage: "version", type: "begin" }],
    [1.4, { stage: "version", type: "sent", line: "SSH-2.0-sshtrace_0.1.0" }],
    [2.9, { stage: "version", type: "pre-version-line", line: "Welcome to the lab switch" }],
    [3.1, {
      stage: "version",
      type: "received",
      line: "SSH-1.99-OpenSSH_9.2p1 Debian-2+deb12u3",
      protocol: "1.99",
      software: "OpenSSH_9.2p1",
      comments: "Debian-2+deb12u3",
      note: "SSH-1 compatible server (SSH-1.99), using 2.0",
    }],
    [3.1, { stage: "version", type: "end", ms: 1.8 }],
    [3.1, { stage: "kex", type: "begin" }],
    [3.2, {
      stage: "kex",
      type: "packet",
      direction: "out",
      seq: 0,
      number: 20,
      message: "KEXINIT",
      length: 1108,
    }],
    [3.3, { stage: "kex", type: "kexinit-sent", lists: CLIENT_LISTS, cookie: "00".repeat(16) }],
    [4.6, {
      stage: "kex",
      type: "packet",
      direction: "in",
      seq: 0,
      number: 20,
      message: "KEXINIT",
      length: 1052,
    }],
    [4.7, {
      stage: "kex",
      type: "kexinit-received",
      lists: serverLists,
      firstKexPacketFollows: false,
    }],
    [4.8, {
      stage: "kex",
      type: "negotiated",
      decisions: decisions(CLIENT_LISTS, serverLists),
      strict: true,
      extInfo: true,
    }],
  ];
}

/** A successful run through every stage. */
export function successEvents(hostKey: "known" | "changed" = "known"): TraceEvent[] {
  return timed([
    ...throughNegotiation(SERVER_LISTS),
    [5.0, {
      stage: "kex",
      type: "exchange",
      method: "curve25519-sha256",
      detail: "X25519 public values exchanged",
    }],
    [34.05, {
      stage: "kex",
      type: "crypto-backend",
      backend: "openssl",
      detail: "OpenSSL 3.0.19 27 Jan 2026 (libcrypto.so.3)",
    }],
    [34.1, { stage: "kex", type: "newkeys", direction: "sent" }],
    [34.3, { stage: "kex", type: "newkeys", direction: "received" }],
    [34.3, {
      stage: "kex",
      type: "ext-info",
      extensions: ["server-sig-algs"],
      serverSigAlgs: ["ssh-ed25519", "rsa-sha2-512"],
    }],
    [34.3, { stage: "kex", type: "end", ms: 31.2 }],
    [34.3, { stage: "hostkey", type: "begin" }],
    [34.4, {
      stage: "hostkey",
      type: "key",
      algorithm: "ssh-rsa",
      keyType: "ssh-rsa",
      fingerprint: SHA256,
      md5: MD5,
      bits: 3072,
    }],
    [35.0, { stage: "hostkey", type: "signature-verified", algorithm: "ssh-rsa" }],
    [35.2, {
      stage: "hostkey",
      type: "status",
      status: hostKey,
      file: "/root/.ssh/known_hosts",
      line: 7,
      knownFingerprint: hostKey === "changed" ? OLD_SHA256 : SHA256,
      note: null,
    }],
    [35.2, { stage: "hostkey", type: "end", ms: 0.9 }],
    [35.2, { stage: "auth", type: "begin" }],
    [36.0, { stage: "auth", type: "service-accepted", service: "ssh-userauth" }],
    [36.1, { stage: "auth", type: "attempt", method: "none", detail: "" }],
    [36.9, {
      stage: "auth",
      type: "banner",
      text: "Authorized use only.\r\nAll activity is logged.\r\n",
    }],
    [37.0, {
      stage: "auth",
      type: "failure",
      method: "none",
      canContinue: ["publickey", "password"],
      partialSuccess: false,
    }],
    [37.1, {
      stage: "auth",
      type: "attempt",
      method: "publickey",
      detail: "ssh-ed25519 SHA256:Zk0pL2 from /root/.ssh/id_ed25519",
    }],
    [39.5, { stage: "auth", type: "success", method: "publickey" }],
    [39.5, {
      stage: "auth",
      type: "debug",
      message: "Pty allocation disabled.",
      alwaysDisplay: false,
    }],
    [39.5, { stage: "auth", type: "end", ms: 4.3 }],
    [39.5, { stage: "session", type: "begin" }],
    [40.2, { stage: "session", type: "info", message: "channel 0 opened" }],
    [40.4, {
      stage: "session",
      type: "debug",
      message: "maintenance window at 02:00 UTC",
      alwaysDisplay: true,
    }],
    [40.9, {
      stage: "session",
      type: "disconnect",
      from: "server",
      reasonCode: 11,
      reason: "BY_APPLICATION",
      description: "disconnected by user",
    }],
    [40.9, { stage: "session", type: "end", ms: 1.4 }],
  ]);
}

/** The offer of a server with only CBC ciphers (none in common with ours). */
export const CBC_SERVER_LISTS: AlgorithmLists = {
  ...SERVER_LISTS,
  cipherC2S: ["aes128-cbc", "3des-cbc"],
  cipherS2C: ["aes128-cbc", "3des-cbc"],
};

/** Events of a run whose server offers only CBC ciphers (none in common with ours). */
export function kexFailureEvents(): TraceEvent[] {
  return timed([
    ...throughNegotiation(CBC_SERVER_LISTS),
    [4.9, {
      stage: "kex",
      type: "error",
      code: "kex.no-common-cipherC2S",
      message: "no cipher (client to server) in common with the server",
    }],
  ]);
}

/** The error the transport throws when a negotiation fails (same code, message and details). */
export function noCommonError(client: AlgorithmLists, server: AlgorithmLists): SshError {
  const all = decisions(client, server);
  const failed = all.find((d) => d.chosen === null);
  if (!failed) throw new Error("the lists negotiate: no failure to report");
  const words: Record<string, string> = {
    kex: "key exchange method",
    cipherC2S: "cipher (client to server)",
  };
  return new SshError(
    "kex",
    `kex.no-common-${failed.category}`,
    `no ${words[failed.category] ?? failed.category} in common with the server`,
    { category: failed.category, ours: failed.ours, theirs: failed.theirs, decisions: all },
  );
}

export function kexFailureError(): SshError {
  return noCommonError(CLIENT_LISTS, CBC_SERVER_LISTS);
}

/** A server that offers only SHA-1 Diffie-Hellman key exchange. */
export const SHA1_KEX_SERVER_LISTS: AlgorithmLists = {
  ...SERVER_LISTS,
  kex: ["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"],
};

export const SUCCESS_TIMINGS = { connect: 1.3, version: 1.8, kex: 31.2, hostkey: 0.9, auth: 4.3 };
