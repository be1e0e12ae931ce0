/**
 * The table of error codes: every code a layer throws, with the type of its `details`. A code
 * is `<stage>.<what>`; its stage is its prefix. Two kinds:
 *
 * - exact codes ({@link EXACT_CODES}), thrown at one stage (`connect.refused`);
 * - families ({@link CODE_FAMILIES}), `*.<what>` thrown at any of the family's stages with one
 *   details type (`${stage}.timeout` from the reader, whatever stage it is in).
 *
 * The failure catalogue is keyed by these ({@link CatalogueKey}) and the compiler proves every
 * code has an entry; the error class checks each `details` against its code.
 * @module
 */

import type { Category, Decision, Stage } from "../types.ts";
import { STAGES } from "../types.ts";

/** Data carried by an error so it can be explained without re-parsing text. */
export interface ErrorDetails {
  [key: string]: unknown;
}

/** Where a connection was going (connect errors). */
type Target = { host: string; port: number };
/** What the client was expecting before the version line. */
type PreVersion = { preVersionLines: string[] };
/** The server's version line (or its excerpt). */
type VersionLine = { versionLine: string };
/** A negotiation that found nothing in common: both lists and every category's decision. */
type NoCommon = { category: Category; ours: string[]; theirs: string[]; decisions: Decision[] };
/**
 * A host certificate that was not accepted: its fields, the CA, the known_hosts line involved
 * (the `@cert-authority` or `@revoked` line, when one is), ssh(1)'s reason in words, and whether
 * the plain key was tried instead (it is, as ssh(1) does, unless the CA's signature is bad or a
 * key is revoked).
 */
type HostCertificateDetails = {
  fingerprint: string;
  certType: string;
  keyId: string;
  serial: string;
  principals: readonly string[];
  validity: string;
  caType: string;
  caFingerprint: string;
  file?: string;
  line?: number;
  reason: string;
  /** The name that had to be a principal (HostKeyAlias or the host name). */
  principal: string;
  plainKeyTried: boolean;
};
/** What every user-authentication failure carries: methods offered, attempts made. */
export type AuthDetails = {
  /** The methods the server says can continue. */
  methods: string[];
  /** Every attempt, in order. */
  tried: { method: string; detail: string; result: string; algorithm?: string }[];
};
/** A channel's local id. */
type OnChannel = { channel: number };
/** A stuck `send` script: what it waited for and the screen's last line. */
type SendStuck = { command: string; timeoutMs: number; lastSeen: string; device: string };
/** The file a transfer step was working on (remote or local path, as the user gave it). */
type OnPath = { path: string };
/** A connection closed under the connection layer: what was still open. */
type OpenWork = { openChannels?: number; pendingRequests?: number };
/** Messages waiting in our send queue when the flood was noticed, and the limit. */
type ReplyFlood = { queued: number; limit: number };

/**
 * The table: every code thrown at one stage, with the type of its details, in stage order.
 * (A type; {@link EXACT_CODES} lists the same codes at run time, checked by the compiler.)
 */
export interface ExactCodes {
  "usage.invalid": { expected?: string; supported?: readonly string[] };
  "usage.unknown-terminal-mode": { mode: string };
  "usage.invalid-terminal-mode": { mode: string; value: number };
  "usage.invalid-keepalive": { intervalMs?: number; countMax?: number };
  "usage.invalid-channel-option": { option: string; value: number };

  /** A configuration file (or `-o`) that cannot be read: where, and what is wrong. */
  "config.invalid": { file: string; line: number; keyword: string | null; problem: string };
  /** A keyword set to something sshtrace does not do (ProxyJump, ForwardAgent yes...). */
  "config.refused": {
    keyword: string;
    value: string;
    reason: string;
    origin: string;
    others: string[];
  };

  "connect.dns": Target;
  "connect.refused": Target;
  "connect.unreachable": Target;
  "connect.reset": Target;
  "connect.failed": Target;
  /** A ProxyCommand could not start, or ended before sending a byte. */
  "connect.proxy-command-failed": Target & {
    command: string;
    exitCode: number | null;
    /** The end of its stderr (at most 4 KiB). */
    stderr: string;
  };
  /** A jump host refused the tunnel (`direct-tcpip`) to the next hop. */
  "connect.jump-refused": Target & {
    jumpHost: string;
    jumpPort: number;
    /** The refusing hop, 1-based, and the length of the chain (jump hosts + target). */
    hop: number;
    hops: number;
    reasonCode: number;
    reason: string;
    description: string;
  };

  "version.not-ssh": PreVersion;
  "version.refused": PreVersion & { reason: string };
  "version.ssh1-only": VersionLine;
  "version.unsupported": VersionLine;
  "version.too-many-lines": PreVersion;
  "version.line-too-long": Partial<PreVersion & VersionLine>;
  "version.malformed": VersionLine;

  "kex.no-common-kex": NoCommon;
  "kex.no-common-hostKey": NoCommon;
  "kex.no-common-cipherC2S": NoCommon;
  "kex.no-common-cipherS2C": NoCommon;
  "kex.no-common-macC2S": NoCommon;
  "kex.no-common-macS2C": NoCommon;
  "kex.no-common-compressionC2S": NoCommon;
  "kex.no-common-compressionS2C": NoCommon;
  "kex.bad-kexinit": Record<never, never>;
  "kex.strict-violation": { message: string };
  "kex.exchange-failed": { algorithm: string };
  /** Group exchange: the server's group is smaller than the minimum we asked for. */
  "kex.dh-group-too-small": { algorithm: string; bits: number; min: number };
  "kex.bad-host-key": Record<never, never>;
  "kex.host-key-too-small": { bits: number; required: number; fingerprint: string };
  "kex.bad-signature": { algorithm: string; fingerprint: string };

  "hostkey.unknown": { fingerprint: string; files: readonly string[] };
  "hostkey.changed": {
    fingerprint: string;
    keyType: string;
    knownFingerprint: string;
    file: string;
    line: number;
    /** Every key known_hosts holds for the host. */
    knownKeys: { keyType: string; fingerprint: string; file: string; line: number }[];
    hostPattern: string;
    /** CheckHostIP: the changed key is the one known_hosts holds for the server's address. */
    address?: boolean;
  };
  "hostkey.revoked": { fingerprint: string; file?: string; line?: number };
  "hostkey.refused-by-user": { fingerprint: string };
  "hostkey.write-failed": Record<never, never>;
  "hostkey.changed-on-rekey": { fingerprint: string };
  "hostkey.cert-unknown-ca": HostCertificateDetails;
  "hostkey.cert-expired": HostCertificateDetails;
  "hostkey.cert-not-yet-valid": HostCertificateDetails;
  "hostkey.cert-principal": HostCertificateDetails;
  "hostkey.cert-invalid": HostCertificateDetails;
  "hostkey.ca-revoked": HostCertificateDetails;

  "auth.service-refused": { service: string; message?: number };
  "auth.connection-closed": AuthDetails;
  "auth.protocol": AuthDetails;
  "auth.too-many-failures": AuthDetails;
  "auth.partial-needs-method": AuthDetails;
  "auth.password-rejected": AuthDetails;
  "auth.kbdint-failed": AuthDetails;
  "auth.batch-mode-needs-prompt": AuthDetails;
  "auth.key-rejected": AuthDetails & { acceptsPublickey: boolean };
  "auth.no-signature-algorithm": AuthDetails;
  "auth.rsa-sha2-refused": AuthDetails & { algorithms: (string | undefined)[] };
  "auth.no-common-method": AuthDetails & {
    ours: string[];
    allowed: string[];
    implemented: string[];
  };
  "auth.password-change-requested": AuthDetails & { prompt: string };

  /** A forward could not listen: -L here (`side` local), or -R on the server (`side` remote). */
  "session.forward-bind-failed": {
    bindHost: string;
    bindPort: number;
    host: string;
    port: number;
    reason: string;
    side?: "local" | "remote";
  };
  "session.channel-open-refused": {
    channelType: string;
    reasonCode: number;
    reason: string;
    description: string;
  };
  "session.pty-refused": OnChannel & { term: string; cols: number; rows: number };
  /** `otherRequestRefused`: the server refused the other of shell and exec too. */
  "session.exec-refused": OnChannel & { otherRequestRefused?: boolean };
  "session.shell-refused": OnChannel & { otherRequestRefused?: boolean };
  "session.prompt-not-found": {
    device: string;
    timeoutMs: number;
    lastSeen: string;
    closed: boolean;
    /** The device the prompt seen looks like, when it is not the given one's. */
    suggested?: string;
  };
  "session.send-timeout": SendStuck;
  "session.shell-closed": SendStuck;
  /** More output than `--max-output` between two prompts (`command` null: before the first). */
  "session.output-too-large": { command: string | null; limitBytes: number; lastSeen: string };
  /** The device waits at a question no answer rule matched (`question`: that line). */
  "session.dialog-unanswered": SendStuck & { question: string };
  "session.subsystem-refused": OnChannel & { subsystem: string };
  /** `excerpt`: the start of what was received (at most 160 characters). */
  "session.netconf-bad-hello": {
    reason: "closed" | "too-large" | "not-a-hello" | "timeout";
    received: number;
    excerpt: string;
  };
  /** `rejected`: 1-based positions of the rejected commands; `privileged`: the prompt's level. */
  /** A command run by exec exited non-zero or was killed (`exitSignal`). */
  "session.command-failed": { exitStatus: number | null; exitSignal?: string | null };
  /** `send --enable`: the privilege step (`enable`, `super`) failed; never the secret. */
  "session.privilege-failed": {
    device: string;
    command: string;
    reason: "no-secret" | "wrong-secret" | "not-raised" | "wrong-level";
    prompt: string;
    errorLine: string;
    /** `--enable-level`: the level asked for, and the one the device reported (or null). */
    level?: number | null;
    reached?: number | null;
  };
  "session.command-rejected": {
    rejected: number[];
    errorLine: string;
    prompt: string;
    device: string;
    privileged: boolean | null;
  };
  "session.channel-closed": OnChannel;
  "session.connection-closed": OpenWork;
  "session.malformed-message": Record<never, never>;
  /** The peer sent more than `limit` messages needing an answer without reading the answers. */
  "session.reply-flood": ReplyFlood;

  "data.keepalive-timeout": { intervalMs: number; countMax: number; unanswered: number };
  "data.connection-closed": OpenWork;
  "data.malformed-message": Record<never, never>;
  "data.reply-flood": ReplyFlood;
  "data.unknown-channel": OnChannel & { message: string };
  "data.channel-closed": OnChannel;
  "data.write-after-eof": OnChannel;
  "data.message-before-open": OnChannel;
  "data.invalid-max-packet": OnChannel;
  "data.window-overflow": OnChannel & { window: number; adjust: number };
  "data.packet-too-large": OnChannel & { length: number; maxPacket: number };
  "data.window-exceeded": OnChannel & { length: number; window: number };
  "data.output-incomplete": { received: number; written: number; cause: string | null };

  "transfer.no-such-file": OnPath;
  "transfer.permission-denied": OnPath;
  "transfer.remote-error": OnPath & {
    protocol: "sftp" | "scp";
    /** The SFTP status code, when SFTP. */
    status?: number;
    /** SCP: the server has no scp program to run. */
    noScp?: boolean;
  };
  "transfer.not-a-file": OnPath & { kind: string };
  "transfer.unsafe-name": { name: string; directory: string };
  "transfer.no-sftp": { subsystem: string };
  "transfer.incomplete": OnPath & { bytes: number; expected: number | null };
  "transfer.local-error": OnPath & { kind: string };
  "transfer.verify-mismatch": OnPath & { local: string; remote: string };
}

/**
 * The families: codes thrown as `${stage}.<what>` at whichever stage the failure happens, keyed
 * `*.<what>`, with the stages that can throw them and the details type they share.
 */
export interface CodeFamilies {
  "*.timeout": {
    stages: Stage;
    details: {
      timeoutMs: number;
      waitedMs?: number;
      budgetMs?: number;
      host?: string;
      port?: number;
    };
  };
  "*.compression-error": { stages: Stage; details: Record<never, never> };
  "*.deadline": { stages: Stage; details: { deadlineMs: number } };
  "*.closed": { stages: Stage; details: Partial<PreVersion> };
  "*.connection-reset": { stages: Stage; details: Record<never, never> };
  "*.disconnect": {
    stages: Stage;
    details: { reasonCode: number; reason: string; description: string };
  };
  "*.mac-error": { stages: Stage; details: { kind: string } };
  "*.bad-packet": { stages: Stage; details: { kind: string } };
  "*.bad-message": { stages: Stage; details: Record<never, never> };
  "*.unexpected-message": { stages: Stage; details: { message: string } | OnChannel };
  "*.internal": { stages: Stage; details: Record<never, never> };
  /** Ctrl-C (SIGINT): at a prompt, or anywhere through the CLI's AbortController. */
  "*.interrupted": { stages: Stage; details: { prompt?: string; path?: string } };
  /** A library caller's AbortSignal fired (`reason`: the signal's reason as text). */
  "*.aborted": { stages: Stage; details: { reason: string } };
}

/** A code thrown at one stage. */
export type ExactCode = keyof ExactCodes;
/** A family's key, `*.<what>`. */
export type FamilyKey = keyof CodeFamilies;

/** Every exact code at run time, with its stage (the compiler checks both against the table). */
export const EXACT_CODES: { readonly [C in ExactCode]: StageOf<C> } = {
  "usage.invalid": "usage",
  "usage.unknown-terminal-mode": "usage",
  "usage.invalid-terminal-mode": "usage",
  "usage.invalid-keepalive": "usage",
  "usage.invalid-channel-option": "usage",
  "config.invalid": "config",
  "config.refused": "config",
  "connect.dns": "connect",
  "connect.refused": "connect",
  "connect.unreachable": "connect",
  "connect.reset": "connect",
  "connect.failed": "connect",
  "connect.jump-refused": "connect",
  "connect.proxy-command-failed": "connect",
  "version.not-ssh": "version",
  "version.refused": "version",
  "version.ssh1-only": "version",
  "version.unsupported": "version",
  "version.too-many-lines": "version",
  "version.line-too-long": "version",
  "version.malformed": "version",
  "kex.no-common-kex": "kex",
  "kex.no-common-hostKey": "kex",
  "kex.no-common-cipherC2S": "kex",
  "kex.no-common-cipherS2C": "kex",
  "kex.no-common-macC2S": "kex",
  "kex.no-common-macS2C": "kex",
  "kex.no-common-compressionC2S": "kex",
  "kex.no-common-compressionS2C": "kex",
  "kex.bad-kexinit": "kex",
  "kex.strict-violation": "kex",
  "kex.exchange-failed": "kex",
  "kex.dh-group-too-small": "kex",
  "kex.bad-host-key": "kex",
  "kex.host-key-too-small": "kex",
  "kex.bad-signature": "kex",
  "hostkey.unknown": "hostkey",
  "hostkey.changed": "hostkey",
  "hostkey.revoked": "hostkey",
  "hostkey.refused-by-user": "hostkey",
  "hostkey.write-failed": "hostkey",
  "hostkey.changed-on-rekey": "hostkey",
  "hostkey.cert-unknown-ca": "hostkey",
  "hostkey.cert-expired": "hostkey",
  "hostkey.cert-not-yet-valid": "hostkey",
  "hostkey.cert-principal": "hostkey",
  "hostkey.cert-invalid": "hostkey",
  "hostkey.ca-revoked": "hostkey",
  "auth.service-refused": "auth",
  "auth.connection-closed": "auth",
  "auth.protocol": "auth",
  "auth.too-many-failures": "auth",
  "auth.partial-needs-method": "auth",
  "auth.password-rejected": "auth",
  "auth.kbdint-failed": "auth",
  "auth.batch-mode-needs-prompt": "auth",
  "auth.key-rejected": "auth",
  "auth.no-signature-algorithm": "auth",
  "auth.rsa-sha2-refused": "auth",
  "auth.no-common-method": "auth",
  "auth.password-change-requested": "auth",
  "session.forward-bind-failed": "session",
  "session.channel-open-refused": "session",
  "session.pty-refused": "session",
  "session.exec-refused": "session",
  "session.shell-refused": "session",
  "session.prompt-not-found": "session",
  "session.send-timeout": "session",
  "session.shell-closed": "session",
  "session.output-too-large": "session",
  "session.dialog-unanswered": "session",
  "session.subsystem-refused": "session",
  "session.netconf-bad-hello": "session",
  "session.command-failed": "session",
  "session.command-rejected": "session",
  "session.privilege-failed": "session",
  "session.channel-closed": "session",
  "session.connection-closed": "session",
  "session.malformed-message": "session",
  "session.reply-flood": "session",
  "data.keepalive-timeout": "data",
  "data.connection-closed": "data",
  "data.malformed-message": "data",
  "data.reply-flood": "data",
  "data.unknown-channel": "data",
  "data.channel-closed": "data",
  "data.write-after-eof": "data",
  "data.message-before-open": "data",
  "data.invalid-max-packet": "data",
  "data.window-overflow": "data",
  "data.packet-too-large": "data",
  "data.window-exceeded": "data",
  "data.output-incomplete": "data",
  "transfer.no-such-file": "transfer",
  "transfer.permission-denied": "transfer",
  "transfer.remote-error": "transfer",
  "transfer.not-a-file": "transfer",
  "transfer.unsafe-name": "transfer",
  "transfer.no-sftp": "transfer",
  "transfer.incomplete": "transfer",
  "transfer.local-error": "transfer",
  "transfer.verify-mismatch": "transfer",
};

/** Every family at run time, with the stages that can throw it. */
export const CODE_FAMILIES: { readonly [K in FamilyKey]: readonly CodeFamilies[K]["stages"][] } = {
  "*.timeout": STAGES,
  "*.compression-error": STAGES,
  "*.deadline": STAGES,
  "*.closed": STAGES,
  "*.connection-reset": STAGES,
  "*.disconnect": STAGES,
  "*.mac-error": STAGES,
  "*.bad-packet": STAGES,
  "*.bad-message": STAGES,
  "*.unexpected-message": STAGES,
  "*.internal": STAGES,
  "*.interrupted": STAGES,
  "*.aborted": STAGES,
};

/** The codes of one family (`*.timeout` → `connect.timeout` | … | `data.timeout`). */
export type FamilyCode<K extends FamilyKey = FamilyKey> = K extends `*${infer Suffix}`
  ? `${CodeFamilies[K]["stages"]}${Suffix}`
  : never;
/** Every error code a layer throws. */
export type ErrorCode = ExactCode | FamilyCode;
/** The family a code belongs to, or never for an exact code. */
export type FamilyOf<C extends string> = C extends `${string}.${infer What}`
  ? `*.${What}` extends FamilyKey ? `*.${What}` : never
  : never;

/** The details type of a code (distributes over a union of codes). */
export type DetailsOf<C extends ErrorCode> = C extends ExactCode ? ExactCodes[C]
  : C extends FamilyCode ? CodeFamilies[FamilyOf<C>]["details"]
  : never;

/** The stage a code is thrown at: its prefix (`usage` for usage errors). */
export type StageOf<C extends string> = C extends `${infer S}.${string}`
  ? S extends Stage | "usage" ? S : never
  : never;

/** The keys of the failure catalogue: every exact code and every family. */
export type CatalogueKey = ExactCode | FamilyKey;
/** The codes a catalogue key (or a code) stands for. */
export type CodesOf<K extends CatalogueKey | ErrorCode> = K extends FamilyKey ? FamilyCode<K> : K;

/** Every error code, with the families expanded to their stages, in table order. */
export function errorCodes(): ErrorCode[] {
  const codes: string[] = Object.keys(EXACT_CODES);
  for (const [key, stages] of Object.entries(CODE_FAMILIES)) {
    for (const stage of stages) codes.push(`${stage}${key.slice(1)}`);
  }
  return codes as ErrorCode[];
}

/** Whether a string is a code of the table (a run-time check for codes from outside). */
export function isErrorCode(code: string): code is ErrorCode {
  if (Object.hasOwn(EXACT_CODES, code)) return true;
  const dot = code.indexOf(".");
  if (dot < 0) return false;
  const key = `*${code.slice(dot)}`;
  if (!Object.hasOwn(CODE_FAMILIES, key)) return false;
  const stages: readonly string[] = CODE_FAMILIES[key as FamilyKey];
  return stages.includes(code.slice(0, dot));
}
