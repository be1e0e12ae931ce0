/**
 * Fault profiles of the binary packet protocol and the key exchange (RFC 4253 §6 to §8).
 * @module
 */

import { encodeKexInit } from "../../transport/kexinit.ts";
import { getDiffieHellman } from "node:crypto";
import { bytesToBigint, SshReader, SshWriter } from "../../wire/buffer.ts";
import { MSG } from "../../wire/messages.ts";
import { joinKexReply, splitKexReply } from "../kex_server.ts";
import type { FaultProfile } from "./mod.ts";
import {
  badPacket,
  closeAt,
  corruptFirstSealed,
  fast,
  flipLast,
  names,
  rawInsteadOfKexInit,
  replaceValue,
  silentAt,
  withLists,
} from "./_helpers.ts";

/** Faults in the key exchange. */
export const KEX_FAULTS: readonly FaultProfile[] = [
  {
    name: "silent-kexinit",
    summary: "sends its version line, then nothing (no KEXINIT)",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: silentAt("before-kexinit"),
  },
  {
    name: "close-kexinit",
    summary: "closes the connection after the version exchange",
    expect: { stage: "kex", code: "kex.closed" },
    config: fast,
    hooks: closeAt("before-kexinit"),
  },
  {
    name: "silent-kex-reply",
    summary: "never answers the client's KEX_ECDH_INIT",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: silentAt("before-kex-reply"),
  },
  {
    name: "close-kex-reply",
    summary: "closes the connection instead of the kex reply",
    expect: { stage: "kex", code: "kex.closed" },
    config: fast,
    hooks: closeAt("before-kex-reply"),
  },
  {
    name: "silent-newkeys",
    summary: "sends the kex reply but never NEWKEYS",
    expect: { stage: "kex", code: "kex.timeout" },
    config: fast,
    hooks: silentAt("before-newkeys"),
  },
  {
    name: "close-newkeys",
    summary: "closes the connection after the kex reply, before NEWKEYS",
    expect: { stage: "kex", code: "kex.closed" },
    config: fast,
    hooks: closeAt("before-newkeys"),
  },
  {
    name: "packet-length-zero",
    summary: "sends a packet whose packet_length is 0",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(badPacket("zero-length")),
  },
  {
    name: "packet-length-huge",
    summary: "sends a packet whose packet_length is 2 GiB",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(badPacket("huge-length")),
  },
  {
    name: "packet-not-block-multiple",
    summary: "sends a packet whose length is not a multiple of the block size",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(badPacket("not-block-multiple")),
  },
  {
    name: "padding-too-short",
    summary: "sends a packet with 3 bytes of padding (the minimum is 4)",
    expect: { stage: "kex", code: "kex.bad-packet" },
    config: fast,
    hooks: rawInsteadOfKexInit(badPacket("short-padding")),
  },
  {
    name: "bad-mac",
    summary: "corrupts the MAC of its first encrypted packet (aes128-ctr, hmac-sha2-256)",
    expect: { stage: "auth", code: "auth.mac-error" },
    config: withLists({
      cipherC2S: ["aes128-ctr"],
      cipherS2C: ["aes128-ctr"],
      macC2S: ["hmac-sha2-256"],
      macS2C: ["hmac-sha2-256"],
    }),
    hooks: corruptFirstSealed,
  },
  {
    name: "bad-aead-tag",
    summary: "corrupts the Poly1305 tag of its first encrypted packet (chacha20-poly1305)",
    expect: { stage: "auth", code: "auth.mac-error" },
    config: withLists({
      cipherC2S: ["chacha20-poly1305@openssh.com"],
      cipherS2C: ["chacha20-poly1305@openssh.com"],
    }),
    hooks: corruptFirstSealed,
  },
  {
    name: "bad-gcm-tag",
    summary: "corrupts the GCM tag of its first encrypted packet (aes256-gcm)",
    expect: { stage: "auth", code: "auth.mac-error" },
    config: withLists({
      cipherC2S: ["aes256-gcm@openssh.com"],
      cipherS2C: ["aes256-gcm@openssh.com"],
    }),
    hooks: corruptFirstSealed,
  },
  {
    name: "bad-compression",
    summary: "negotiates zlib, then sends a packet whose payload is not zlib data " +
      "(reached with --legacy -o Compression=yes)",
    expect: { stage: "auth", code: "auth.compression-error" },
    config: withLists({ compressionC2S: ["zlib"], compressionS2C: ["zlib"] }),
    client: { legacy: true, algorithms: { compression: ["zlib"] } },
    hooks: {
      at: {
        "service-request": async (io) => {
          await io.sendUncompressed(
            new SshWriter().byte(MSG.SERVICE_ACCEPT).string("ssh-userauth").bytes(),
          );
          return await io.silent();
        },
      },
    },
  },
  {
    name: "bad-signature",
    summary: "signs the exchange hash wrongly (one bit of the Ed25519 signature flipped)",
    expect: { stage: "kex", code: "kex.bad-signature" },
    config: fast,
    hooks: {
      signature(blob) {
        const out = blob.slice();
        out[out.length - 5]! ^= 0x01;
        return out;
      },
    },
  },
  {
    name: "kexinit-empty-lists",
    summary: "sends a KEXINIT whose name-lists are all empty",
    expect: { stage: "kex", code: "kex.no-common-kex" },
    config: fast,
    hooks: {
      kexInit: () =>
        encodeKexInit({
          kex: [],
          hostKey: [],
          cipherC2S: [],
          cipherS2C: [],
          macC2S: [],
          macS2C: [],
          compressionC2S: [],
          compressionS2C: [],
        }),
    },
  },
  {
    name: "kexinit-absurd-lists",
    summary: "sends a KEXINIT with 1000 names in every list",
    expect: { stage: "kex", code: "kex.bad-kexinit" },
    config: fast,
    hooks: {
      kexInit: (lists) =>
        encodeKexInit({
          kex: [...lists.kex, ...names(1000, 24)],
          hostKey: [...lists.hostKey, ...names(1000, 24)],
          cipherC2S: names(1000, 24),
          cipherS2C: names(1000, 24),
          macC2S: names(1000, 24),
          macS2C: names(1000, 24),
          compressionC2S: names(1000, 24),
          compressionS2C: names(1000, 24),
        }),
    },
  },
  {
    name: "kexinit-huge-name",
    summary: "sends a KEXINIT whose kex list is one 70 KB name",
    expect: { stage: "kex", code: "kex.bad-kexinit" },
    config: fast,
    hooks: {
      kexInit: (lists) => encodeKexInit({ ...lists, kex: ["k".repeat(70_000), ...lists.kex] }),
    },
  },
  {
    name: "kexinit-empty-names",
    summary: "sends name-lists with empty names (a trailing comma as libssh 0.10 does, and `a,,b`)",
    expect: { success: true },
    config: fast,
    hooks: {
      kexInit: (lists) =>
        encodeKexInit({
          ...lists,
          kex: [lists.kex[0]!, "", ...lists.kex.slice(1)],
          cipherC2S: [...lists.cipherC2S, ""],
          cipherS2C: [...lists.cipherS2C, ""],
          macC2S: ["", ...lists.macC2S],
        }),
    },
  },
  {
    name: "hostkey-ecdsa-only",
    summary: "shows only an ECDSA P-256 host key (an impostor of a host known by its Ed25519 " +
      "key): fine for a client that knows nothing of the host, 'changed' for one that does",
    expect: { success: true },
    config: withLists({ hostKey: ["ecdsa-sha2-nistp256"] }),
    hooks: {},
  },
  {
    name: "hostkey-rsa-768",
    summary: "presents a 768-bit RSA host key (below OpenSSH's 1024-bit floor) in the kex reply",
    expect: { stage: "kex", code: "kex.host-key-too-small" },
    config: withLists({ hostKey: ["rsa-sha2-256", "rsa-sha2-512"] }),
    hooks: {
      kexReply(payload) {
        const r = splitKexReply(payload);
        // A well-formed public key with a 768-bit modulus; the check must come before the
        // signature is verified (which would fail too: the lab signs with its real key).
        const small = new SshWriter().string("ssh-rsa").mpint(65537n)
          .mpint((1n << 767n) | 0xabcdefn).bytes();
        return joinKexReply(r.type, small, r.value, r.signature);
      },
    },
  },
  {
    name: "kexinit-no-common-cipher",
    summary: "offers only 3des-cbc, which a client does not offer by default",
    expect: { stage: "kex", code: "kex.no-common-cipherC2S" },
    config: withLists({ cipherC2S: ["3des-cbc"], cipherS2C: ["3des-cbc"] }),
    hooks: {},
  },
  {
    name: "strict-kex-ignore-first",
    summary: "offers strict kex but sends IGNORE before its KEXINIT (the Terrapin pattern)",
    expect: { stage: "kex", code: "kex.strict-violation" },
    config: fast,
    hooks: {
      at: {
        "before-kexinit": async (io) => {
          await io.send(new SshWriter().byte(MSG.IGNORE).string("terrapin").bytes());
        },
      },
    },
  },
  {
    name: "strict-kex-debug-before-newkeys",
    summary: "offers strict kex but sends DEBUG between its kex reply and NEWKEYS",
    expect: { stage: "kex", code: "kex.strict-violation" },
    config: fast,
    hooks: {
      at: {
        "before-newkeys": async (io) => {
          await io.send(
            new SshWriter().byte(MSG.DEBUG).bool(true).string("out of order").string("").bytes(),
          );
        },
      },
    },
  },
  {
    name: "ignore-flood",
    summary: "without strict kex, sends IGNORE messages instead of NEWKEYS, endlessly (20 s)",
    expect: { stage: "kex", code: "kex.timeout" },
    config: (c) => ({ ...fast(c), strictKex: false }),
    hooks: {
      at: {
        "before-newkeys": async (io) => {
          const ignore = new SshWriter().byte(MSG.IGNORE).string(new Uint8Array(512)).bytes();
          const end = performance.now() + 20_000;
          for (let i = 0; performance.now() < end; i++) {
            await io.send(ignore);
            if (i % 20 === 19) await io.sleep(1);
          }
          return await io.silent();
        },
      },
    },
  },
  {
    name: "wrong-guess",
    summary: "sends a wrongly guessed first kex packet (first_kex_packet_follows); " +
      "a client must ignore it and carry on",
    expect: { success: true },
    config: withLists({ kex: ["ecdh-sha2-nistp256", "curve25519-sha256"] }),
    hooks: {
      guess: () =>
        new SshWriter().byte(MSG.KEXDH_REPLY).string("a wrong guess, to be ignored").bytes(),
    },
  },
  {
    name: "dh-f-one",
    summary: "answers diffie-hellman-group14-sha256 with f = 1",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["diffie-hellman-group14-sha256"] }),
    hooks: { kexReply: replaceValue(() => new Uint8Array([1])) },
  },
  {
    name: "gex-composite-modulus",
    summary: "answers a group exchange with a 2048-bit modulus that is not a prime (the square " +
      "of Oakley group 2's 1024-bit prime: odd, in range, no small factor)",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["diffie-hellman-group-exchange-sha256"] }),
    hooks: {
      kexGroup(payload) {
        const r = new SshReader(payload, "KEX_DH_GEX_GROUP");
        const type = r.byte();
        r.mpint();
        const g = r.mpint();
        const p2 = bytesToBigint(new Uint8Array(getDiffieHellman("modp2").getPrime()));
        return new SshWriter().byte(type).mpint(p2 * p2).mpint(g).bytes();
      },
    },
  },
  {
    name: "x25519-zero-point",
    summary: "answers curve25519-sha256 with the all-zero X25519 point",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["curve25519-sha256"] }),
    hooks: { kexReply: replaceValue(() => new Uint8Array(32)) },
  },
  {
    name: "ecdh-off-curve",
    summary: "answers ecdh-sha2-nistp256 with a point that is not on the curve",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: withLists({ kex: ["ecdh-sha2-nistp256"] }),
    hooks: { kexReply: replaceValue((v) => flipLast(v)) },
  },
  {
    name: "truncated-kex-reply",
    summary: "sends a kex reply cut short by 10 bytes",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: fast,
    hooks: { kexReply: (p) => p.slice(0, p.length - 10) },
  },
  {
    name: "kex-reply-wrong-message",
    summary: "sends its kex reply as message 33 instead of 31",
    expect: { stage: "kex", code: "kex.exchange-failed" },
    config: fast,
    hooks: {
      kexReply(p) {
        const out = p.slice();
        out[0] = 33;
        return out;
      },
    },
  },
];
