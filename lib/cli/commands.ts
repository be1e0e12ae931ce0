/**
 * The command table of sshtrace: every command, its arguments and options described once, as data
 * (the shared option groups and {@link COMMANDS}), driving both the parsing (lib/cli/args.ts) and
 * the help text (lib/cli/help.ts).
 * @module
 */

import { DEVICE_NAMES } from "../send/devices.ts";

// ---------------------------------------------------------------------------------------------
// The option tables

/** One command-line option. Its flag key is the camelCase of `long`, or `short` without one. */
export interface OptionSpec {
  /** Long name without the dashes: `password-env` (flag key `passwordEnv`). */
  readonly long?: string;
  /** One letter: `p` for `-p`. */
  readonly short?: string;
  /** Placeholder of the value (`<port>`); without it the option is a switch (`true` or absent). */
  readonly value?: string;
  /** Repeatable: every value is collected into an array (default `[]`). */
  readonly repeat?: true;
  /** A counted switch: `-vv` and `-v -v` give 2 (default 0). */
  readonly count?: true;
  /** The value when the option is not given. */
  readonly default?: string;
  readonly help: string;
}

/** A positional argument, for the checks and the help text. */
export interface ArgSpec {
  readonly name: string;
  readonly required: boolean;
  /** Takes all the remaining words. */
  readonly variadic: boolean;
  readonly help: string;
}

export interface CommandSpec {
  readonly summary: string;
  readonly args: readonly ArgSpec[];
  readonly options: readonly OptionSpec[];
  /** A paragraph printed after the options in the command's help. */
  readonly note?: string;
}

/** Options every command but `lab` shares. */
export const COMMON = [
  { short: "p", long: "port", value: "<port>", help: "port to connect to (default 22)" },
  { short: "l", long: "login", value: "<user>", help: "user name to log in as" },
  {
    short: "o",
    long: "option",
    value: "<Key=Value>",
    repeat: true,
    help: "OpenSSH option (repeatable)",
  },
  {
    long: "kex",
    value: "<list>",
    help: "key exchange algorithms: +a append, -a remove, ^a prepend, a,b replace",
  },
  { long: "hostkeys", value: "<list>", help: "host key algorithms (same syntax)" },
  { long: "ciphers", value: "<list>", help: "ciphers (same syntax)" },
  { long: "macs", value: "<list>", help: "MACs (same syntax)" },
  {
    long: "legacy",
    help: "also offer legacy algorithms (SHA-1, CBC, 3DES, MD5...) after modern ones",
  },
  {
    long: "timeout",
    value: "<seconds>",
    default: "10",
    help: "time budget of each stage (version, kex, each answer)",
  },
  { long: "json", help: "print one JSON report on stdout at the end" },
  { long: "ndjson", help: "print trace events as NDJSON on stdout as they happen" },
  {
    short: "v",
    long: "verbose",
    count: true,
    help: "more detail: full algorithm lists (-vv: packets)",
  },
  { short: "q", long: "quiet", help: "show only failures" },
  {
    short: "F",
    value: "<file>",
    help: "read this ssh_config (none: no file) instead of ~/.ssh/config and /etc/ssh/ssh_config",
  },
] as const satisfies readonly OptionSpec[];

/** `check` has a `--login` switch instead of `-l, --login <user>`. */
const COMMON_NO_LOGIN = COMMON.filter((
  o,
): o is Exclude<(typeof COMMON)[number], { long: "login" }> =>
  !("long" in o) || o.long !== "login"
);

/** `get`/`put` take `-P <port>` as scp does: `-p` keeps times and modes there. */
const COMMON_TRANSFER = [
  ...COMMON.filter((o): o is Exclude<(typeof COMMON)[number], { long: "port" }> =>
    !("long" in o) || o.long !== "port"
  ),
  { short: "P", long: "port", value: "<port>", help: "port to connect to (default 22)" },
] as const satisfies readonly OptionSpec[];

const IDENTITY = {
  short: "i",
  long: "identity",
  value: "<file>",
  repeat: true,
  help: "private key file (repeatable)",
} as const satisfies OptionSpec;

const SECRETS = [
  {
    long: "password-env",
    value: "<VAR>",
    help: "read the password from this environment variable",
  },
  { long: "password-file", value: "<file>", help: "read the password from this file" },
  {
    long: "passphrase-env",
    value: "<VAR>",
    help: "read key passphrases from this environment variable",
  },
  { long: "passphrase-file", value: "<file>", help: "read key passphrases from this file" },
] as const satisfies readonly OptionSpec[];

const BATCH = {
  long: "batch",
  help: "never prompt (like -o BatchMode=yes)",
} as const satisfies OptionSpec;

const JUMP = {
  short: "J",
  value: "<hops>",
  help: "connect through jump hosts, [user@]host[:port],… first hop first (like ssh -J; " +
    "-o ProxyJump=…); each hop uses its own ssh_config Host block",
} as const satisfies OptionSpec;

const TARGET = {
  name: "target",
  required: true,
  variadic: false,
  help: "[user@]host[:port]",
} as const satisfies ArgSpec;

export const TRANSFER_OPTIONS = [
  ...COMMON_TRANSFER,
  { short: "r", long: "recursive", help: "copy directories" },
  { short: "p", long: "preserve", help: "keep modification times and modes (like scp -p)" },
  {
    long: "protocol",
    value: "<name>",
    default: "auto",
    help: "sftp, scp or auto (SFTP when the server has it, else SCP; the choice is traced)",
  },
  {
    long: "verify",
    help: "compare SHA-256 of both sides afterwards (sha256sum on the host, or read back)",
  },
  {
    long: "resume",
    help: "continue a partial copy (SFTP): from the temporary .NAME.sshtrace-part",
  },
  {
    long: "fsync",
    help: "get: flush each file to disk before renaming it (survives a power loss; slower; " +
      "like sftp -f)",
  },
  IDENTITY,
  ...SECRETS,
  BATCH,
  JUMP,
] as const satisfies readonly OptionSpec[];

const TRANSFER_NOTE = "Files are written under a temporary name (.NAME.sshtrace-part) and " +
  "renamed when complete, so an interrupted copy (Ctrl-C: exit 130) never leaves a truncated " +
  "file under the final name. Names a server sends during -r are checked: `..`, absolute paths " +
  "and `/` inside a name are refused.";

export const COMMANDS = {
  probe: {
    summary: "connect, negotiate and check the host key without credentials; list auth methods",
    args: [TARGET],
    options: [...COMMON, JUMP, {
      long: "deep",
      help: "every host key, every listed algorithm offered alone, Terrapin, vendor, full grade " +
        "(many connections)",
    }, {
      long: "policy",
      value: "<file>",
      help: "check the server against a policy (JSON, or builtin:modern-hardened, " +
        "builtin:legacy-switch-minimum); exit 3 when a rule fails (implies --deep)",
    }, {
      long: "make-policy",
      value: "<file>",
      help: "write a policy this server passes, from it as the reference (implies --deep)",
    }, {
      long: "junit",
      value: "<file>",
      help: "with --policy: also write the results as JUnit XML, a testcase per rule",
    }],
  },
  connect: {
    summary: "log in and open a shell, or run a command (the default command)",
    args: [TARGET, {
      name: "command",
      required: false,
      variadic: true,
      help: "command to run instead of a shell",
    }],
    options: [
      ...COMMON,
      IDENTITY,
      { short: "C", help: "request compression (zlib@openssh.com, like ssh -C)" },
      { short: "t", help: "force a pty" },
      { short: "T", help: "disable pty allocation" },
      { short: "s", help: "the command is a subsystem name (e.g. netconf, sftp), like ssh -s" },
      { short: "4", help: "IPv4 addresses only (AddressFamily inet)" },
      { short: "6", help: "IPv6 addresses only (AddressFamily inet6)" },
      {
        short: "b",
        value: "<address>",
        help: "local address to connect from (BindAddress)",
      },
      {
        short: "e",
        value: "<char>",
        help: "escape character of a terminal session (EscapeChar; default ~, none: no escapes)",
      },
      { short: "E", value: "<file>", help: "append the trace to this file instead of stderr" },
      {
        short: "N",
        help: "no command and no shell: log in and stay connected (to forward ports) until the " +
          "server closes or Ctrl-C (like ssh -N)",
      },
      { short: "n", help: "stdin from /dev/null (no input is sent; no pty unless -t)" },
      ...SECRETS,
      { long: "rekey-limit", value: "<size>", help: "rekey after this much data (e.g. 1G, 500M)" },
      BATCH,
      {
        short: "L",
        value: "<[bind:]port:host:hostport>",
        repeat: true,
        help: "forward a local port to host:hostport as the server sees it (like ssh -L)",
      },
      {
        short: "R",
        value: "<[bind:]port:host:hostport>",
        repeat: true,
        help: "have the server listen on port and forward to host:hostport as seen from here " +
          "(like ssh -R)",
      },
      {
        short: "D",
        value: "<[bind:]port>",
        repeat: true,
        help: "run a SOCKS4/5 proxy on port whose connections go out from the server (like " +
          "ssh -D)",
      },
      {
        short: "g",
        help: "let other hosts connect to -L/-D forwards given no bind address (like ssh -g; " +
          "-o GatewayPorts=yes)",
      },
      {
        short: "A",
        help: "forward the ssh-agent ($SSH_AUTH_SOCK) to the sessions; the server can use its " +
          "keys while connected (like ssh -A)",
      },
      {
        short: "W",
        value: "<host:port>",
        help: "carry stdin and stdout to host:port through the server (like ssh -W; for " +
          "ProxyCommand)",
      },
      JUMP,
      {
        short: "G",
        help: "print the configuration ssh_config gives the target (like ssh -G; -v: with " +
          "origins) and exit",
      },
    ],
    note: "Like ssh, options may also follow the target; the first word after it that is not " +
      "an option starts the remote command (or put -- before the command).",
  },
  netconf: {
    summary: "open the netconf subsystem (port 830 by default) and print the server's capabilities",
    args: [TARGET],
    options: [...COMMON, IDENTITY, ...SECRETS, BATCH],
  },
  send: {
    summary: "run commands through a pty shell, for devices without exec (switches)",
    args: [TARGET, {
      name: "commands",
      required: true,
      variadic: true,
      help: 'commands, each one argument (after --): -- "display version"',
    }],
    options: [
      ...COMMON,
      {
        long: "device",
        value: "<name>",
        default: "auto",
        help: `${DEVICE_NAMES.join(", ")} or auto`,
      },
      { long: "prompt", value: "<regex>", help: "the device prompt, when auto-detection fails" },
      {
        long: "command-timeout",
        value: "<seconds>",
        help: "limit for each command (default 30)",
      },
      {
        long: "max-output",
        value: "<size>",
        help: "most output kept for one command, e.g. 512M (default 64M; more stops the run)",
      },
      {
        long: "encoding",
        value: "<label>",
        help: "decode output for display, e.g. gbk (default utf-8)",
      },
      {
        long: "enable",
        help: "raise the privilege level first (enable, super), answering its secret prompt",
      },
      {
        long: "enable-level",
        value: "<n>",
        help: "with --enable: ask for this level (Comware super 3, Huawei super 15, enable 15)",
      },
      {
        long: "enable-secret-env",
        value: "<VAR>",
        help: "read the enable / super secret from this environment variable",
      },
      {
        long: "enable-secret-file",
        value: "<file>",
        help: "read the enable secret from this file",
      },
      {
        long: "log",
        value: "<file>",
        help: "write a timestamped transcript (typed and printed; secrets masked) to this file",
      },
      {
        long: "config",
        help: "run the commands in configuration mode (system-view, configure terminal, configure)",
      },
      {
        long: "save",
        help: "with --config: save afterwards (save force, save, write memory; Junos commits)",
      },
      {
        long: "answer",
        value: "<REGEX=REPLY>",
        repeat: true,
        help:
          "answer a dialog whose line matches REGEX with REPLY + Enter (repeatable; never shown)",
      },
      IDENTITY,
      ...SECRETS,
      BATCH,
    ],
  },
  check: {
    summary: "check a fleet: probe (or log in to) every host of an inventory, in parallel",
    args: [{
      name: "inventory",
      required: true,
      variadic: false,
      help: "text ([user@]host[:port] per line) or CSV with a header; - for stdin",
    }],
    options: [
      ...COMMON_NO_LOGIN,
      { long: "concurrency", value: "<n>", help: "hosts checked at once (default 32)" },
      {
        long: "jump",
        value: "<hops>",
        help: "reach every host through these jump hosts (like -J; one connection to them, " +
          "reused; an inventory jump column wins)",
      },
      {
        long: "login",
        help: "log in (keys, agent, --password-env) instead of only probing",
      },
      { long: "command", value: "<cmd>", help: "with --login: run this command on every host" },
      {
        long: "fetch",
        value: "<path>",
        help: "with --login: copy this remote file from every host into DIR/<host>/ (backups)",
      },
      { long: "dest", value: "<dir>", help: "with --fetch: where the copies go (default .)" },
      {
        long: "fsync",
        help: "with --fetch: flush each copy to disk before renaming it (survives a power loss; " +
          "slower; as get --fsync)",
      },
      { long: "junit", value: "<file>", help: "also write JUnit XML for CI systems" },
      {
        long: "log",
        value: "<dir>",
        help: "with --command: a transcript per host in DIR/<host>.log (secrets masked)",
      },
      {
        long: "policy",
        value: "<file>",
        help: "check every host's offer against a policy (as probe --policy); exit 3 on a failure",
      },
      { long: "drift", help: "list the hosts whose offer differs from the majority's" },
      {
        long: "deep",
        help: "a deep probe of every host (as probe --deep; 8 at once unless --concurrency), " +
          "with --policy and --junit",
      },
      IDENTITY,
      ...SECRETS,
    ],
  },
  get: {
    summary: "download a file (or with -r a directory) over SFTP or SCP",
    args: [
      { name: "source", required: true, variadic: false, help: "[user@]host:REMOTE" },
      {
        name: "local",
        required: false,
        variadic: false,
        help: "local file or directory (default: the current directory)",
      },
    ],
    options: TRANSFER_OPTIONS,
    note: TRANSFER_NOTE,
  },
  put: {
    summary: "upload a file (or with -r a directory) over SFTP or SCP",
    args: [
      { name: "local", required: true, variadic: false, help: "local file or directory" },
      { name: "destination", required: true, variadic: false, help: "[user@]host:REMOTE" },
    ],
    options: TRANSFER_OPTIONS,
    note: TRANSFER_NOTE,
  },
  doctor: {
    summary: "find the login that works: a ladder of traced attempts, least harmful change " +
      "first, then the settings for ssh_config, sshtrace, Paramiko/Netmiko and scrapli",
    args: [TARGET, {
      name: "command",
      required: false,
      variadic: true,
      help: "a command the login must run (after --)",
    }],
    options: [
      ...COMMON,
      {
        long: "goal",
        value: "<goal>",
        help: "probe (no credentials, the default) or login (a command sets goal command)",
      },
      { long: "write-config", value: "<file>", help: "append the working Host block to it" },
      { long: "alias", value: "<name>", help: "the Host pattern of the block (default: host)" },
      JUMP,
      {
        long: "pacing",
        value: "<seconds>",
        help: "pause of the slower-pacing rung (default 5)",
      },
      IDENTITY,
      ...SECRETS,
      BATCH,
    ],
  },
  lab: {
    summary: "run the built-in lab SSH server on 127.0.0.1 (modern, old-switch or a fault)",
    args: [],
    options: [
      { long: "port", value: "<n>", help: "port to listen on (default: a free one)" },
      {
        long: "profile",
        value: "<name>",
        default: "modern",
        help: "modern, old-switch, a fault profile, or list",
      },
      { long: "once", help: "stop after one connection" },
      { short: "q", long: "quiet", help: "do not log connections" },
    ],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export const HELP = { short: "h", long: "help", help: "display help for command" } as const;
export const VERSION = { short: "V", long: "version", help: "output the version number" } as const;

/** `-p, --port <port>`, as in the help and the messages. */
export const termOf = (o: OptionSpec) =>
  [o.short && `-${o.short}`, o.long && `--${o.long}`].filter(Boolean).join(", ") +
  (o.value ? ` ${o.value}` : "");
