/**
 * `sshtrace check` and ssh_config: each inventory entry configured as a login to it would read
 * its ssh_config, and the fleet-wide `-o` a check cannot act on refused.
 * @module
 */

import type { Signer } from "../auth/types.ts";
import { authMethods } from "./login_options.ts";
import type { InventoryEntry } from "../check/inventory.ts";
import type { Settings } from "../config/options.ts";
import { SshError } from "../errors/mod.ts";
import { configRefusals, refusalError } from "../sshconfig/apply.ts";
import { KEYWORDS } from "../sshconfig/keywords.ts";
import type { SshConfig } from "../sshconfig/resolve.ts";
import { originText } from "../sshconfig/types.ts";
import type { CheckFlags } from "./check.ts";
import type { ConnectFlags } from "./connect.ts";
import { signerLoader } from "./credentials.ts";
import { Tracer } from "../trace.ts";
import { connectionOptions } from "./connection_options.ts";
import { env } from "./output.ts";

/**
 * The keywords of ssh_config a fleet check does not act on for a host (it is always batch
 * mode and never forwards, and the session options only matter to an interactive login).
 */
const NOT_PER_HOST = new Set([
  "localforward",
  "remoteforward",
  "dynamicforward",
  "forwardagent",
  "requesttty",
  "sendenv",
  "setenv",
  "escapechar",
  "loglevel",
]);

/** Of those, the environment: noted only with -v, as a login notes it. */
const ENVIRONMENT = new Set(["sendenv", "setenv"]);

/**
 * A fleet-wide `-o` that `check` would not act on (NOT_PER_HOST, or a HostName for every host)
 * is a usage error, never silently ignored.
 */
export function refuseUnusedByCheck(config: SshConfig): void {
  for (
    const [k, v] of [
      ...config.values,
      ...[...config.lists].map(([k, l]) => [k, l[0]] as const),
    ]
  ) {
    if (!v || v.origin.kind === "default") continue;
    if (!NOT_PER_HOST.has(k) && k !== "hostname") continue;
    throw new SshError(
      "usage",
      "usage.invalid",
      `check does not act on ${originText(v.origin)} (it acts on every keyword a login ` +
        "does, but forwarding, the session's terminal and environment, and a HostName for " +
        "every host)",
      { expected: "-o options a login would act on" },
    );
  }
}

/**
 * Each entry as ssh_config gives it, as a login to it would read it: HostName, Port, User, and
 * the options of a connection (algorithms, known_hosts files and StrictHostKeyChecking,
 * HostKeyAlias, ConnectTimeout, TCP options, ProxyJump and ProxyCommand, keys from
 * IdentityFile/CertificateFile/IdentitiesOnly/IdentityAgent, authentication methods). A refused
 * keyword stops the check (nothing is sent); keywords a check does not act on (forwarding, the
 * session's terminal and environment) are named once on stderr, never silently dropped.
 */
export function configureEntries(
  entries: readonly InventoryEntry[],
  configFor: (target: string) => { config: SshConfig; settings: Settings },
  writeErr: (text: string) => void,
  flags: CheckFlags = {},
): InventoryEntry[] {
  const notApplied = new Map<string, string>();
  const home = env("HOME") ?? ".";
  // One key loader per distinct key configuration (a fleet of 1000 hosts loads its keys once).
  const loaders = new Map<string, () => Promise<Signer[]>>();
  const out = entries.map((entry): InventoryEntry => {
    const { config, settings } = configFor(entry.target);
    const refusals = configRefusals(config);
    if (refusals.length) throw refusalError(refusals);
    for (
      const [k, v] of [
        ...config.values,
        ...[...config.lists].map(([k, l]) => [k, l[0]] as const),
      ]
    ) {
      if (!v || v.origin.kind !== "file" || !NOT_PER_HOST.has(k) || notApplied.has(k)) continue;
      // The environment is not sent by a login either, which says so only with -v (Debian's
      // /etc/ssh/ssh_config sets SendEnv for everyone).
      if (ENVIRONMENT.has(k) && !flags.verbose) continue;
      notApplied.set(k, `${KEYWORDS.get(k)?.name ?? k} (${originText(v.origin)})`);
    }
    const keys = JSON.stringify([
      settings.identityFiles,
      settings.identitiesOnly,
      settings.identityAgent,
      settings.certificateFiles,
      settings.pubkeyAlgorithms,
    ]);
    let signers = loaders.get(keys);
    if (!signers) {
      signers = fleetSigners(settings, flags);
      loaders.set(keys, signers);
    }
    const strict = settings.strictHostKeyChecking;
    const methods = authMethods(settings);
    const { algorithms, ...connection } = connectionOptions(settings, home);
    return {
      ...entry,
      ...(settings.hostname !== undefined ? { connectHost: settings.hostname } : {}),
      port: settings.port ?? entry.port,
      user: settings.user ?? entry.user,
      ...(algorithms && Object.keys(algorithms).length ? { algorithms } : {}),
      // ssh_config's ProxyJump when the inventory line names no jump of its own.
      ...(entry.jump == null && settings.proxyJump ? { jump: settings.proxyJump } : {}),
      overrides: {
        ...connection,
        ...(settings.connectTimeoutS ? { timeoutMs: settings.connectTimeoutS * 1000 } : {}),
        ...(strict ? { strictHostKeyChecking: strict === "ask" ? "yes" : strict } : {}),
        signers,
        ...(methods ? { methods } : {}),
      },
    };
  });
  if (notApplied.size) {
    writeErr(
      `sshtrace: check does not forward ports or agents, nor set a session's terminal or ` +
        `environment; not applied: ${[...notApplied.values()].join(", ")}\n`,
    );
  }
  return out;
}

/** Key files and agent keys, loaded once for the whole fleet (never prompts). */
export function fleetSigners(settings: Settings, flags: CheckFlags): () => Promise<Signer[]> {
  const load = signerLoader(new Tracer(), settings, flags as ConnectFlags, true);
  let loaded: Promise<Signer[]> | null = null;
  return () => (loaded ??= load());
}
