/**
 * Where a login's credentials come from: the password (an environment variable, a file, or the
 * terminal), key passphrases, keyboard-interactive answers, and the keys offered — key files
 * (with the certificates ssh(1) pairs with them: `KEY-cert.pub`, CertificateFile), then the
 * agent's (IdentityAgent), filtered by IdentitiesOnly and PubkeyAcceptedAlgorithms. Local I/O
 * through the platform seam; protocol layers get only the sources.
 * @module
 */

import type { KbdInteractiveResponder, PasswordRequest, PasswordSource } from "../auth/userauth.ts";
import type { Signer } from "../auth/types.ts";
import { parsePublicKeyLine } from "../algorithms/pubkey.ts";
import { type Settings, usageError } from "../config/options.ts";
import { AgentClient } from "../keys/agent.ts";
import { certificateSigner, parseCertificate, validityText } from "../keys/certificate.ts";
import { defaultIdentityFiles, KeyFileError, loadPrivateKeyFile } from "../keys/private_key.ts";
import { signatureNameOf } from "../keys/signer.ts";
import { platform } from "../platform/mod.ts";
import { sanitize } from "../render/sanitize.ts";
import type { Tracer } from "../trace.ts";
import type { ConnectFlags } from "./connect.ts";
import { env, writeErr } from "./output.ts";
import { canPrompt, prompt } from "./tty.ts";

export async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    return (await platform.readTextFile(path)).replace(/\r?\n$/, "");
  } catch (e) {
    throw usageError(`cannot read the ${what} file ${path}: ${(e as Error).message}`);
  }
}

/**
 * The words of a password prompt: the server's own prompt when it asks (keyboard-interactive),
 * else OpenSSH's `user@host's password: `.
 */
export function passwordPrompt(request: PasswordRequest): string {
  if (request.serverPrompt !== null) return request.serverPrompt;
  return request.host
    ? `${request.user}@${request.host}'s password: `
    : `${request.user}'s password: `;
}

/** Password source from flags (env var, file) or the terminal. */
export async function passwordSource(
  flags: ConnectFlags,
  batch: boolean,
): Promise<PasswordSource | null> {
  if (flags.passwordEnv) {
    const name = flags.passwordEnv;
    if (env(name) === undefined) {
      throw usageError(`--password-env ${name}: the variable is not set`);
    }
    return { get: () => Promise.resolve(env(name) ?? null), fromUser: false };
  }
  if (flags.passwordFile) {
    const pw = await readSecretFile(flags.passwordFile, "password");
    return { get: () => Promise.resolve(pw), fromUser: false };
  }
  if (batch || !canPrompt()) return null;
  return {
    get: (request) => prompt(passwordPrompt(request), false, { stage: "auth", what: "password" }),
    fromUser: true,
  };
}

export async function passphraseSource(flags: ConnectFlags, batch: boolean) {
  if (flags.passphraseEnv) {
    const name = flags.passphraseEnv;
    return (_file: string) => Promise.resolve(env(name) ?? null);
  }
  if (flags.passphraseFile) {
    const p = await readSecretFile(flags.passphraseFile, "passphrase");
    return (_file: string) => Promise.resolve(p);
  }
  if (batch || !canPrompt()) return null;
  return (file: string) =>
    prompt(`Enter passphrase for key '${file}': `, false, { stage: "auth", what: "passphrase" });
}

export function keyboardResponder(batch: boolean): KbdInteractiveResponder | null {
  if (batch || !canPrompt()) return null;
  return async (req) => {
    // Name and instruction are the server's words: shown sanitized, as every prompt is.
    if (req.name) writeErr(sanitize(req.name, { multiline: true }) + "\n");
    if (req.instruction) writeErr(sanitize(req.instruction, { multiline: true }) + "\n");
    const answers: string[] = [];
    for (const p of req.prompts) {
      const a = await prompt(p.prompt, p.echo, { stage: "auth", what: "keyboard-interactive" });
      if (a === null) return null;
      answers.push(a);
    }
    return answers;
  };
}

/** Key files and agent keys, loaded when publickey is first tried. */
export function signerLoader(
  tracer: Tracer,
  settings: Settings,
  flags: ConnectFlags,
  batch: boolean,
): () => Promise<Signer[]> {
  return async () => {
    const explicit = [...(flags.identity ?? []), ...settings.identityFiles];
    const home = env("HOME") ?? ".";
    const files = explicit.length
      ? explicit.map((f) => f.replace(/^~(?=\/|$)/, home))
      : defaultIdentityFiles(home);
    const passphrase = await passphraseSource(flags, batch);
    const signers: Signer[] = [];
    const certFiles = [...(settings.certificateFiles ?? [])];
    for (const file of files) {
      certFiles.push(`${file}-cert.pub`);
      try {
        signers.push(
          await loadPrivateKeyFile(file, {
            passphrase: passphrase ? () => passphrase(file) : undefined,
          }),
        );
      } catch (e) {
        if (e instanceof KeyFileError) {
          if (e.reason === "unreadable" && !explicit.length) continue;
          tracer.emit({ stage: "auth", type: "info", message: `key skipped: ${e.message}` });
          continue;
        }
        throw e;
      }
    }
    withCertificates(signers, await readCertificates(certFiles, tracer), tracer);
    const accepted = settings.pubkeyAlgorithms;
    // IdentityAgent: a socket path, SSH_AUTH_SOCK (the default), or none.
    const agentSetting = settings.identityAgent;
    const sock = agentSetting === undefined || agentSetting === "SSH_AUTH_SOCK"
      ? env("SSH_AUTH_SOCK")
      : agentSetting.toLowerCase() === "none"
      ? undefined
      : agentSetting;
    if (sock) {
      try {
        const agent = await AgentClient.connect(sock);
        let keys = await agent.identities();
        if (settings.identitiesOnly) {
          keys = keys.filter((k) => signers.some((s) => sameBlob(s.publicBlob, k.publicBlob)));
        }
        tracer.emit({
          stage: "auth",
          type: "info",
          message: `ssh-agent offers ${keys.length} key(s)`,
        });
        signers.push(...keys);
      } catch (e) {
        tracer.emit({
          stage: "auth",
          type: "info",
          message: `ssh-agent not used: ${(e as Error).message}`,
        });
      }
    }
    return accepted ? acceptedOnly(signers, accepted, tracer) : signers;
  };
}

/**
 * PubkeyAcceptedAlgorithms: each key offered only with the algorithms the list accepts (a
 * certificate's when the list names it or its key's algorithm); keys left with none are skipped.
 */
function acceptedOnly(signers: Signer[], accepted: readonly string[], tracer: Tracer): Signer[] {
  const out: Signer[] = [];
  for (const signer of signers) {
    const algorithms = signer.algorithms.filter((a) =>
      accepted.includes(a) || accepted.includes(signatureNameOf(a))
    );
    if (algorithms.length === 0) {
      tracer.emit({
        stage: "auth",
        type: "info",
        message: `key ${signer.source} (${signer.type}) skipped: PubkeyAcceptedAlgorithms ` +
          `lists none of ${signer.algorithms.join(", ")}`,
      });
      continue;
    }
    out.push(
      algorithms.length === signer.algorithms.length ? signer : {
        type: signer.type,
        publicBlob: signer.publicBlob,
        bits: signer.bits,
        comment: signer.comment,
        source: signer.source,
        algorithms,
        sign: (data, algorithm) => signer.sign(data, algorithm),
      },
    );
  }
  return out;
}

/** The certificates of `files` that exist and parse (a missing `KEY-cert.pub` is normal). */
async function readCertificates(
  files: readonly string[],
  tracer: Tracer,
): Promise<{ file: string; blob: Uint8Array }[]> {
  const out: { file: string; blob: Uint8Array }[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await platform.readTextFile(file);
    } catch {
      continue;
    }
    try {
      const blob = parsePublicKeyLine(text.trim().split("\n")[0] ?? "").blob;
      parseCertificate(blob);
      out.push({ file, blob });
    } catch (e) {
      tracer.emit({
        stage: "auth",
        type: "info",
        message: `certificate ${file} skipped: ${(e as Error).message}`,
      });
    }
  }
  return out;
}

/**
 * Puts each certificate just before the key it certifies (as ssh(1) offers `KEY-cert.pub` with
 * `KEY`), tracing its key id, serial, principals and validity; a certificate whose key was not
 * loaded is skipped with a note.
 */
function withCertificates(
  signers: Signer[],
  certs: readonly { file: string; blob: Uint8Array }[],
  tracer: Tracer,
): void {
  for (const { file, blob } of certs) {
    const cert = parseCertificate(blob);
    const i = signers.findIndex((s) => sameBlob(s.publicBlob, cert.publicBlob));
    const what = `certificate ${file}: key id "${cert.keyId}", serial ${cert.serial}, ` +
      `principals ${cert.principals.join(",") || "(any)"}, valid ${validityText(cert)}`;
    if (i < 0) {
      tracer.emit({ stage: "auth", type: "info", message: `${what}: no private key, skipped` });
      continue;
    }
    signers.splice(i, 0, certificateSigner(signers[i]!, blob, file));
    tracer.emit({ stage: "auth", type: "info", message: what });
  }
}

function sameBlob(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
