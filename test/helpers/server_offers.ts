/**
 * What real servers offer, as probe() reported them: the lists the grade tests are graded
 * against (test/unit/diagnose/grade_test.ts) and that a live sshd must still match
 * (test/interop/diagnose/grade_sshd_test.ts).
 */
import type { AlgorithmLists } from "../../lib/types.ts";

const MACS_92 = [
  "umac-64-etm@openssh.com",
  "umac-128-etm@openssh.com",
  "hmac-sha2-256-etm@openssh.com",
  "hmac-sha2-512-etm@openssh.com",
  "hmac-sha1-etm@openssh.com",
  "umac-64@openssh.com",
  "umac-128@openssh.com",
  "hmac-sha2-256",
  "hmac-sha2-512",
  "hmac-sha1",
];
const CIPHERS_92 = [
  "chacha20-poly1305@openssh.com",
  "aes128-ctr",
  "aes192-ctr",
  "aes256-ctr",
  "aes128-gcm@openssh.com",
  "aes256-gcm@openssh.com",
];

/** OpenSSH 9.2p1 (Debian 12) with its default configuration, as probe() reported it. */
export const OPENSSH_92: AlgorithmLists = {
  kex: [
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
    "kex-strict-s-v00@openssh.com",
  ],
  hostKey: ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-512", "rsa-sha2-256"],
  cipherC2S: CIPHERS_92,
  cipherS2C: CIPHERS_92,
  macC2S: MACS_92,
  macS2C: MACS_92,
  compressionC2S: ["none", "zlib@openssh.com"],
  compressionS2C: ["none", "zlib@openssh.com"],
};

/** The same sshd configured legacy-only (KexAlgorithms, Ciphers, MACs, HostKeyAlgorithms). */
export const OPENSSH_92_LEGACY: AlgorithmLists = {
  kex: [
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "kex-strict-s-v00@openssh.com",
  ],
  hostKey: ["ssh-rsa"],
  cipherC2S: ["aes128-cbc", "3des-cbc"],
  cipherS2C: ["aes128-cbc", "3des-cbc"],
  macC2S: ["hmac-sha1", "hmac-md5"],
  macS2C: ["hmac-sha1", "hmac-md5"],
  compressionC2S: ["none", "zlib@openssh.com"],
  compressionS2C: ["none", "zlib@openssh.com"],
};

/** Dropbear 2022.83 (Debian 12) with ed25519, ecdsa and rsa host keys. */
export const DROPBEAR_2022: AlgorithmLists = {
  kex: [
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp521",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp256",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group14-sha1",
    "kexguess2@matt.ucc.asn.au",
    "kex-strict-s-v00@openssh.com",
  ],
  hostKey: ["ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "ssh-rsa"],
  cipherC2S: ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"],
  cipherS2C: ["chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr"],
  macC2S: ["hmac-sha1", "hmac-sha2-256"],
  macS2C: ["hmac-sha1", "hmac-sha2-256"],
  compressionC2S: ["zlib@openssh.com", "none"],
  compressionS2C: ["zlib@openssh.com", "none"],
};
