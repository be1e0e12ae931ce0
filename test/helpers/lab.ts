/**
 * Helpers for the lab server tests: one set of host keys for the whole file (RSA and DSA
 * generation take a moment), every registered algorithm, the real client connected to a lab
 * server, and error capture.
 */

import { allNames, type ListCategory } from "../../lib/algorithms/registry.ts";
import { type Client, connect, type ConnectOptions } from "../../lib/client.ts";
import { generateHostKeys, type HostKeys, type LabServer } from "../../lib/lab/mod.ts";
import type { PasswordSource } from "../../lib/auth/userauth.ts";

let keys: Promise<HostKeys> | null = null;

/** Host keys of every type (Ed25519, ECDSA P-256/384/521, RSA 2048, DSA 1024), made once. */
export function sharedHostKeys(): Promise<HostKeys> {
  keys ??= generateHostKeys([
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "ssh-dss",
  ]);
  return keys;
}

/** Every registered algorithm in each category, for a lab server that offers all it can. */
export function everyAlgorithm(): Record<ListCategory, string[]> {
  return {
    kex: allNames("kex"),
    hostKey: allNames("hostKey"),
    cipher: allNames("cipher"),
    mac: allNames("mac"),
    compression: allNames("compression"),
  };
}

/** A password source that is not a person (never prompts). */
export function password(text: string): PasswordSource {
  return { get: () => Promise.resolve(text), fromUser: false };
}

/** Connects the real client to a lab server as `demo`/`demo` (unless `options` say otherwise). */
export function connectLab(
  lab: Pick<LabServer, "host" | "port">,
  options: Partial<ConnectOptions> = {},
): Promise<Client> {
  return connect({
    host: lab.host,
    port: lab.port,
    user: "demo",
    strictHostKeyChecking: "no",
    knownHostsFiles: [],
    timeoutMs: 5000,
    auth: { password: password("demo") },
    ...options,
  });
}

/** Awaits `promise`, which must reject with an SshError; returns it and the time taken. */
export { expectTraceError as traceError } from "./scripted_server.ts";

export const decode = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Reads from a stream until the text read so far matches `until`; returns it all. */
export async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: RegExp,
  sofar = "",
  timeoutMs = 5000,
): Promise<string> {
  let text = sofar;
  const deadline = performance.now() + timeoutMs;
  while (!until.test(text)) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${until}: ${text}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (next === null) throw new Error(`timed out waiting for ${until}: ${text}`);
    if (next.done) throw new Error(`stream ended before ${until}: ${text}`);
    text += decode(next.value);
  }
  return text;
}
