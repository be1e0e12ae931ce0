/**
 * The doctor's working settings in the forms people use: an OpenSSH `Host` block, sshtrace
 * flags, Paramiko/Netmiko `disabled_algorithms` and connection arguments, scrapli options. Pure:
 * returns text, the CLI prints or appends it. (lib/sshconfig/dump.ts prints a resolved
 * configuration the way `ssh -G` does; a Host block needs the `+`/`-` list syntax instead.)
 * @module
 */

import { buildOffer, type ListCategory } from "../algorithms/registry.ts";
import { OPENSSH_OPTION } from "../config/options.ts";
import { DOCTOR_LISTS, type DoctorSettings, listEdits, securityCost } from "./settings.ts";

export interface FormTarget {
  host: string;
  port: number;
  user: string | null;
  /** The `Host` pattern of the block. @default host */
  alias?: string;
}

/** Names OpenSSH before 9.9 does not know: left out of explicit lists written for OpenSSH. */
const OPENSSH_NEWER = new Set(["mlkem768x25519-sha256", "sntrup761x25519-sha512"]);

/**
 * Each changed list as one OpenSSH value: `+a,b`, `-pattern`, or (when names are both removed
 * and added, which one keyword cannot say: OpenSSH keeps the first line of a keyword) the whole
 * resulting list.
 */
export function opensshLists(s: DoctorSettings): Partial<Record<ListCategory, string>> {
  const edits = listEdits(s);
  const out: Partial<Record<ListCategory, string>> = {};
  for (const c of DOCTOR_LISTS) {
    const e = edits[c];
    if (!e) continue;
    if (e.length === 1) out[c] = e[0]!;
    else {
      const list = buildOffer({ [c]: e })[c].filter((n) => !OPENSSH_NEWER.has(n));
      out[c] = list.join(",");
    }
  }
  return out;
}

/** The `-o Key=Value` options of the settings, for `ssh` (and scrapli's system transport). */
export function opensshOptions(s: DoctorSettings): string[] {
  const out: string[] = [];
  for (const [c, value] of Object.entries(opensshLists(s))) {
    out.push(`${OPENSSH_OPTION[c as ListCategory]}=${value}`);
  }
  if (s.rsaSha1) out.push("PubkeyAcceptedAlgorithms=+ssh-rsa");
  return out;
}

/** The OpenSSH `Host` block (comments say the cost and what OpenSSH cannot express). */
export function hostBlock(s: DoctorSettings, target: FormTarget): string {
  const lines = [`# sshtrace doctor: what works for ${target.host} port ${target.port}`];
  for (const cost of securityCost(s)) lines.push(`#   cost: ${cost}`);
  lines.push(`Host ${target.alias ?? target.host}`);
  if (target.alias && target.alias !== target.host) lines.push(`  HostName ${target.host}`);
  if (target.port !== 22) lines.push(`  Port ${target.port}`);
  if (target.user) lines.push(`  User ${target.user}`);
  for (const o of opensshOptions(s)) {
    const i = o.indexOf("=");
    lines.push(`  ${o.slice(0, i)} ${o.slice(i + 1)}`);
  }
  if (s.smallDhGroups) {
    lines.push(
      "  # 1024-bit group exchange: OpenSSH's ssh refuses groups under 2048 bits, with no " +
        "setting; a fixed group (diffie-hellman-group14-*) on the server is the way",
    );
  }
  if (s.noStrictKex) {
    lines.push("  # no strict kex: OpenSSH has no setting to leave it out (this server breaks it)");
  }
  if (s.versionAfterGreeting) {
    lines.push("  # the server drops data sent before its greeting: OpenSSH always sends first");
  }
  if (s.window !== null) {
    lines.push(`  # a ${s.window}-byte channel window: OpenSSH has no setting for it`);
  }
  if (s.pacingMs) {
    lines.push(`  # wait ${s.pacingMs} ms between connections: OpenSSH has no setting for it`);
  }
  return lines.join("\n") + "\n";
}

/** sshtrace's own flags for the settings. */
export function sshtraceFlags(s: DoctorSettings): string[] {
  const flag: Record<ListCategory, string> = {
    kex: "--kex",
    hostKey: "--hostkeys",
    cipher: "--ciphers",
    mac: "--macs",
    compression: "-o Compression=",
  };
  const out: string[] = [];
  for (const [c, edits] of Object.entries(listEdits(s))) {
    // Quoted when the shell would expand a wildcard.
    for (const e of edits) out.push(`${flag[c as ListCategory]} ${/[*?]/.test(e) ? `'${e}'` : e}`);
  }
  if (s.rsaSha1 || s.smallDhGroups) out.push("--legacy");
  return out;
}

/** Paramiko's algorithm names per `disabled_algorithms` key (2.12+ defaults). */
const PARAMIKO: Record<string, { list: ListCategory; names: readonly string[] }> = {
  kex: {
    list: "kex",
    names: [
      "curve25519-sha256@libssh.org",
      "ecdh-sha2-nistp256",
      "ecdh-sha2-nistp384",
      "ecdh-sha2-nistp521",
      "diffie-hellman-group16-sha512",
      "diffie-hellman-group-exchange-sha256",
      "diffie-hellman-group14-sha256",
      "diffie-hellman-group-exchange-sha1",
      "diffie-hellman-group14-sha1",
      "diffie-hellman-group1-sha1",
    ],
  },
  keys: {
    list: "hostKey",
    names: [
      "ssh-ed25519",
      "ecdsa-sha2-nistp256",
      "ecdsa-sha2-nistp384",
      "ecdsa-sha2-nistp521",
      "rsa-sha2-512",
      "rsa-sha2-256",
      "ssh-rsa",
      "ssh-dss",
    ],
  },
  ciphers: {
    list: "cipher",
    names: ["aes128-ctr", "aes192-ctr", "aes256-ctr", "aes128-cbc", "aes192-cbc", "aes256-cbc"],
  },
  macs: {
    list: "mac",
    names: [
      "hmac-sha2-256",
      "hmac-sha2-512",
      "hmac-sha2-256-etm@openssh.com",
      "hmac-sha2-512-etm@openssh.com",
      "hmac-sha1",
      "hmac-md5",
      "hmac-sha1-96",
      "hmac-md5-96",
    ],
  },
};

/** `*` and `?` wildcards, as in OpenSSH lists. */
function matches(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(name);
}

/**
 * Paramiko's (and Netmiko's) `disabled_algorithms`: Paramiko offers the legacy algorithms by
 * default, so only removals, pinned lists and refused rsa-sha2 signatures need it.
 */
export function paramikoDisabled(s: DoctorSettings): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, { list, names }] of Object.entries(PARAMIKO)) {
    const only = s.only[list];
    const remove = s.remove[list] ?? [];
    const add = s.add[list] ?? [];
    const off = names.filter((n) =>
      only?.length ? !only.includes(n) : remove.some((p) => matches(p, n)) && !add.includes(n)
    );
    if (off.length) out[key] = off;
  }
  if (s.rsaSha1) out.pubkeys = ["rsa-sha2-512", "rsa-sha2-256"];
  return out;
}

function pyDict(d: Record<string, string[]>): string {
  const items = Object.entries(d).map(([k, v]) => `"${k}": [${v.map((n) => `"${n}"`).join(", ")}]`);
  return `{${items.join(", ")}}`;
}

/** Paramiko `SSHClient.connect(...)` arguments. */
export function paramikoArgs(s: DoctorSettings, target: FormTarget): string {
  const args = [`hostname="${target.host}"`, `port=${target.port}`];
  if (target.user) args.push(`username="${target.user}"`);
  const disabled = paramikoDisabled(s);
  if (Object.keys(disabled).length) args.push(`disabled_algorithms=${pyDict(disabled)}`);
  return `client.connect(${args.join(", ")})`;
}

/** Netmiko `ConnectHandler(...)` arguments. */
export function netmikoArgs(s: DoctorSettings, target: FormTarget): string {
  const args = [`device_type="autodetect"`, `host="${target.host}"`, `port=${target.port}`];
  if (target.user) args.push(`username="${target.user}"`);
  const disabled = paramikoDisabled(s);
  if (Object.keys(disabled).length) args.push(`disabled_algorithms=${pyDict(disabled)}`);
  if (s.pacingMs) args.push(`conn_timeout=${Math.ceil(s.pacingMs / 1000) + 10}`);
  return `ConnectHandler(${args.join(", ")})`;
}

/** scrapli with its system transport (OpenSSH's `ssh`): the same `-o` options. */
export function scrapliArgs(s: DoctorSettings, target: FormTarget): string {
  const args = [`host="${target.host}"`, `port=${target.port}`];
  if (target.user) args.push(`auth_username="${target.user}"`);
  args.push(`transport="system"`);
  const open = opensshOptions(s).flatMap((o) => ["-o", o]);
  if (open.length) {
    args.push(`transport_options={"open_cmd": [${open.map((w) => `"${w}"`).join(", ")}]}`);
  }
  return `Scrapli(${args.join(", ")})`;
}

/** Every form, titled, for the human report. */
export function allForms(s: DoctorSettings, target: FormTarget): [string, string][] {
  const flags = sshtraceFlags(s);
  const host = target.port === 22 ? target.host : `${target.host}:${target.port}`;
  const who = target.user ? `${target.user}@${host}` : host;
  const notes: string[] = [];
  if (s.window !== null) notes.push(`library: windowSize: ${s.window}, maxPacket: ${s.window}`);
  if (s.versionAfterGreeting) notes.push("library: versionAfterGreeting: true");
  if (s.noStrictKex) notes.push("library: strictKex: false");
  if (s.pacingMs) notes.push(`wait ${s.pacingMs} ms between connections`);
  return [
    ["OpenSSH ssh_config", hostBlock(s, target)],
    ["sshtrace", `sshtrace ${[...flags, who].join(" ")}${notes.map((n) => `  # ${n}`).join("")}`],
    ["Paramiko", paramikoArgs(s, target)],
    ["Netmiko", netmikoArgs(s, target)],
    ["scrapli", scrapliArgs(s, target)],
  ];
}
