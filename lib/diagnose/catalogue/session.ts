/**
 * The failure catalogue's entries for session set-up failures (stage `session`): channel open, pty, shell, exec, send.
 * @module
 */

import type { TraceEvent } from "../../trace.ts";
import { num, str, targetOf } from "./_helpers.ts";
import type { FailureContext, Refinement, StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const SESSION = {
  "session.forward-bind-failed": {
    stage: "session",
    title: "a local forward could not listen on its address",
    explanation: "sshtrace logged in, then could not open the local listening socket a -L " +
      "forward asked for: another program already listens on that port, the bind address is " +
      "not one of this host's, or the port is below 1024 and needs privileges. Nothing was " +
      "forwarded; with ExitOnForwardFailure yes the connection was closed (without it, as " +
      "ssh(1), the failure is a warning and the run goes on).",
    fix: "pick a free local port (-L 0:HOST:PORT lets the system choose one), or stop the " +
      "program that holds it (ss -ltnp shows it)",
    opensshFix: "-L FREE_PORT:HOST:PORT",
    refine({ details: d }) {
      // A Unix socket's path as the listening address (-L /local.sock:…, -R /remote.sock:…).
      if (String(d.bindHost).startsWith("/")) {
        const remote = d.side === "remote";
        return {
          title: remote
            ? "the server refused to listen on a Unix socket for a remote forward (-R)"
            : "a local forward could not listen on its Unix socket",
          fix: remote
            ? `remove the stale ${d.bindHost} on the server, or allow it there ` +
              "(sshd_config: AllowStreamLocalForwarding yes, StreamLocalBindUnlink yes)"
            : `remove the stale socket file ${d.bindHost} (or -o StreamLocalBindUnlink=yes), ` +
              "or check that its directory exists and is writable",
          opensshFix: remote
            ? "sshd_config on the server: AllowStreamLocalForwarding yes, StreamLocalBindUnlink yes"
            : "-o StreamLocalBindUnlink=yes",
        };
      }
      if (d.side === "remote") {
        return {
          title: "the server refused to listen for a remote forward (-R)",
          explanation: "The server answered the tcpip-forward request with a failure: " +
            "forwarding is off there (OpenSSH: AllowTcpForwarding no or local, " +
            "DisableForwarding yes, a PermitListen list), the port is in use on the server, " +
            "or it is below 1024 and the account is not root.",
          fix: `use another remote port than ${d.bindPort} (-R 0:${d.host}:${d.port} lets the ` +
            "server choose), or allow remote forwarding on the server",
          opensshFix: "sshd_config on the server: AllowTcpForwarding yes (or remote)",
        };
      }
      return {
        fix: `pick a free local port instead of ${d.bindPort} (-L 0:${d.host}:${d.port} lets ` +
          `the system choose one), or stop the program that holds it (ss -ltnp sport = ` +
          `:${d.bindPort} shows it)`,
      };
    },
  },
  "session.channel-open-refused": {
    stage: "session",
    title: "the server refused to open a channel",
    explanation: "The connection is authenticated, but the server would not open a session " +
      "channel.",
    fix: null,
    opensshFix: null,
    refine: refineOpenRefused,
  },
  "session.pty-refused": {
    stage: "session",
    title: "the server refused a pseudo-terminal",
    explanation: "The server will not allocate a terminal: `no-pty` in authorized_keys, " +
      "`PermitTTY no`, or no free ptys. Commands usually still run without one.",
    fix: "-T (no pty)",
    opensshFix: "-T (-o RequestTTY=no)",
  },
  "session.exec-refused": {
    stage: "session",
    title: "the server refused to run the command (exec)",
    explanation: "Many network devices accept only an interactive shell, not a command given on " +
      "the command line (exec request). Send the command into a shell instead.",
    fix:
      "sshtrace send [user@]HOST -- 'COMMAND' (types the command into an interactive shell; --device comware/huawei/cisco/junos)",
    opensshFix: "-tt, with the command on standard input",
    refine: refineFileTransferOnly,
  },
  "session.shell-refused": {
    stage: "session",
    title: "the server refused to start a shell",
    explanation: "The account may be limited to a forced command or to file transfer " +
      "(ForceCommand, internal-sftp), or the device accepts only commands (exec).",
    fix: "give the command to run after the host (exec) instead of opening a shell",
    opensshFix: "ssh HOST COMMAND",
    refine: refineFileTransferOnly,
  },
  "session.prompt-not-found": {
    stage: "session",
    title: "no shell prompt was recognised",
    explanation: "`send` types commands into an interactive shell and waits for the device's " +
      "prompt after each one. No prompt of the expected style showed up: the device uses an " +
      "unusual prompt, shows a menu or a pager first, or is slow to start its shell.",
    fix: "name the device type, or give the prompt as a regular expression (see `send --help`)",
    opensshFix: null,
    refine: (c) => {
      const suggested = str(c.details, "suggested");
      if (suggested) {
        return {
          title: "the prompt is another device's",
          explanation: `The shell shows a prompt of another device family than --device ` +
            `${str(c.details, "device") ?? ""} expects: the device type is wrong.`,
          fix: `--device ${suggested} (or --device auto)`,
        };
      }
      const seen = str(c.details, "lastSeen");
      return seen ? { explanation: `No prompt was recognised; the last output was ${seen}.` } : {};
    },
  },
  "session.send-timeout": {
    stage: "session",
    title: "no prompt came back after a command",
    explanation: "After sending a command, the device's prompt did not reappear in time: the " +
      "command is still running (long output, a ping or a copy), it waits for input or a " +
      "confirmation, or its output ends in an unrecognised prompt.",
    fix:
      "raise the per-command limit, or give the prompt as a regular expression (see `send --help`)",
    opensshFix: null,
  },
  "session.shell-closed": {
    stage: "session",
    title: "the shell closed while a command was running",
    explanation: "The device closed the shell during a command: the command logged out or " +
      "reloaded the device, or the session hit an idle or privilege limit.",
    fix: "check the commands (exit, reload, quit) and the device's session limits",
    opensshFix: null,
  },
  "session.output-too-large": {
    stage: "session",
    title: "the shell sent more output than is kept for one command",
    explanation: "A command's output is kept until its prompt comes back (to clean it and " +
      "report it), so reading stops past the --max-output limit (64 MiB by default) rather " +
      "than let a device, or a hostile server, fill memory: the command prints more than that " +
      "(show tech-support, a full log), or it never ends (a follow mode, a flood).",
    fix: "--max-output 512M for a command this large; for an endless one, a command that ends " +
      "(or sshtrace HOST 'COMMAND' > FILE, which streams)",
    opensshFix: null,
  },
  "session.command-failed": {
    stage: "session",
    title: "the command exited with a non-zero status",
    explanation: "The connection and login worked; the remote command itself reported a failure " +
      "(its exit status is above). Its own output says why.",
    fix: "run the command by hand on this host to see why",
    opensshFix: null,
  },
  "session.dialog-unanswered": {
    stage: "session",
    title: "the device asked a question nobody answered",
    explanation: "After the command the device waited at a question (quoted above) instead of " +
      "its prompt: a confirmation or an input sshtrace has no answer for.",
    fix: "--answer 'REGEX=REPLY' (e.g. --answer 'activation key: ?$=KEY'; the reply is typed " +
      "with Enter and never shown)",
    opensshFix: null,
  },
  "session.subsystem-refused": {
    stage: "session",
    title: "the server refused the subsystem",
    explanation: "The login worked, but the server would not start the subsystem: it is not " +
      "configured (NETCONF usually listens on port 830 and must be enabled on the device, " +
      "e.g. `netconf ssh server enable`, `netconf-yang`, `set system services netconf ssh`).",
    fix: "-p 830, or enable NETCONF over SSH on the device",
    opensshFix: null,
  },
  "session.netconf-bad-hello": {
    stage: "session",
    title: "the server did not send a NETCONF <hello>",
    explanation: "The netconf subsystem started, but the server's first message was not a " +
      "<hello> with capabilities ending in ]]>]]> (RFC 6242): something else answers on this " +
      "subsystem, or the server is too slow or broken.",
    fix: "check that NETCONF is enabled on the device (and --timeout for a slow one)",
    opensshFix: null,
    refine: (c) => {
      const excerpt = str(c.details, "excerpt");
      return excerpt ? { explanation: `The server sent ${JSON.stringify(excerpt)}.` } : {};
    },
  },
  "session.privilege-failed": {
    stage: "session",
    title: "the privilege level could not be raised",
    explanation: "`--enable` types the device's privilege command (`enable`, `super`) before " +
      "the commands and answers its password prompt with the enable secret; the device did " +
      "not grant the level.",
    fix: "--enable-secret-env VAR (the enable secret, not the login password)",
    opensshFix: null,
    refine: (c) => {
      const reason = str(c.details, "reason");
      const command = str(c.details, "command") ?? "enable";
      if (reason === "no-secret") {
        return {
          title: `\`${command}\` asked for a secret and none was given`,
          explanation: "The device asked for the enable secret and sshtrace had none: without " +
            "a terminal it cannot ask you.",
          fix: "--enable-secret-env VAR or --enable-secret-file FILE",
        };
      }
      if (reason === "wrong-secret") {
        return {
          title: `the device refused the secret for \`${command}\``,
          explanation: "The enable secret was sent and refused: it is wrong, or it is the " +
            "login password where the device has a separate enable secret (or the reverse).",
        };
      }
      if (reason === "wrong-level") {
        const asked = c.details.level;
        const reached = c.details.reached;
        return {
          title: `\`${command}\` did not reach level ${asked ?? "asked for"}`,
          explanation: (reached === null || reached === undefined
            ? "The device refused the level asked for (quoted above): this firmware has no " +
              "such level (Comware 5 has 0-3, VRP and Comware 7 0-15)."
            : `The device reported level ${reached} instead.`) +
            " The commands were not run at a level they were not meant for.",
          fix: "--enable-level with a level the device has (Comware 5: 3, VRP: 15), or " +
            "without it for the command's default",
        };
      }
      if (reason === "not-raised") {
        return {
          title: `\`${command}\` did not raise the level`,
          explanation: "The device answered the privilege command without granting the level: " +
            "this account may not be allowed to raise it (a level-limited user, AAA " +
            "authorization), or the command needs a level argument on this firmware.",
          fix: "log in with an account of the level the commands need, or run them without " +
            "--enable",
        };
      }
      return {};
    },
  },
  "session.command-rejected": {
    stage: "session",
    title: "the device rejected a command",
    explanation: "Every command ran and its output is kept, but the device answered at least " +
      "one with an error line of its own (quoted above): the command is misspelt, incomplete, " +
      "not known to this firmware, or not allowed at this privilege level.",
    fix: "check the command on this device (`?` after a word lists what it accepts)",
    opensshFix: null,
    refine: (c) => {
      if (c.details.privileged !== false) return {};
      const prompt = str(c.details, "prompt") ?? "";
      return {
        explanation: `The prompt ${JSON.stringify(prompt)} ends in \`>\`: the account is at ` +
          "user level (IOS user EXEC), where most show commands and every configuration " +
          "command are refused. `enable` raises the level, with the enable secret.",
        fix: "--enable --enable-secret-env VAR (enters privileged mode before the commands)",
      };
    },
  },
  "session.channel-closed": {
    stage: "session",
    title: "the server closed the channel before answering",
    explanation: "The server closed the session channel instead of answering a request; the " +
      "account may be restricted or the server hit a limit.",
    fix: "check the server's logs for the user's session",
    opensshFix: null,
  },
  "session.connection-closed": {
    stage: "session",
    title: "the server closed the connection while the session was being set up",
    explanation: "The server hung up during the channel open or the pty/shell/exec request: " +
      "some devices drop the connection instead of refusing a request (e.g. exec on a switch " +
      "that only has a shell), or they limit the number of sessions.",
    fix: "sshtrace send [user@]HOST -- 'COMMAND' for devices without exec; check the server's logs",
    opensshFix: "-tt, with the command on standard input",
  },
  "session.reply-flood": {
    stage: "session",
    title: "the server flooded the connection with requests while the session was being set up",
    explanation: "Before the session was ready the server kept sending messages that need an " +
      "answer (global or channel requests that want a reply, channel opens) while it stopped " +
      "reading ours, so the answers piled up; the connection was ended before they could use " +
      "up memory. A hostile server, or one whose connection layer hung.",
    fix: "-vv to see the packets; report it to the server's owner with the trace",
    opensshFix: "-vvv",
  },
  "session.malformed-message": {
    stage: "session",
    title: "the server sent a malformed message while the session was being set up",
    explanation: "A channel message (e.g. the open confirmation) could not be decoded: a server " +
      "bug.",
    fix: "-vv to see the packets; report it with the trace",
    opensshFix: "-vvv",
  },
} satisfies StageEntries<"session">;

/**
 * Server software that offers file transfer only (SFTP, sometimes SCP), never a shell or
 * commands, by the software field of its version line (ProFTPD's mod_sftp, managed file
 * transfer products, cloud SFTP endpoints).
 */
const FILE_TRANSFER_ONLY =
  /^(mod_sftp|ProFTPD|CrushFTPSSHD|Serv-U|GoAnywhere|WS_FTP|AWS_SFTP|JSCAPE|SFTPGo|Cerberus|Titan|Syncplify|CompleteFTP|FileZilla|Globalscape|MOVEit)/i;

/** The server's software from the trace's version line, or null. */
function serverSoftware(events: readonly TraceEvent[]): string | null {
  for (const e of events) if (e.type === "received") return e.software;
  return null;
}

/**
 * For a refused exec or shell: the explanation when the server is a file-transfer-only server
 * (known by its version line, or because it refused a shell and exec both), where advice to use
 * the other request would send the user in circles.
 */
function refineFileTransferOnly(
  c: FailureContext<"session.exec-refused" | "session.shell-refused">,
): Refinement {
  const software = serverSoftware(c.events);
  const known = software !== null && FILE_TRANSFER_ONLY.test(software);
  if (!known && c.details.otherRequestRefused !== true) return {};
  const target = targetOf(c.events);
  return {
    title: "the server accepts file transfer only (SFTP), not commands or a shell",
    explanation:
      (known
        ? `The server identifies as ${software}, a file-transfer server: `
        : "The server refused both a shell and a command (exec): ") +
      "it runs no commands, so typing the command into an interactive shell will not work " +
      "either. Use it for file transfer (the sftp subsystem); the login itself works.",
    fix: "use an SFTP client for this server; `sshtrace probe` checks its login path",
    opensshFix: target
      ? `sftp ${target.port === 22 ? "" : `-P ${target.port} `}USER@${target.host}`
      : "sftp USER@HOST",
  };
}

export const OPEN_FAILURE_HELP: Record<number, { why: string; fix: string | null }> = {
  1: {
    why: "the server forbids it: a session limit (MaxSessions), a restricted account, or a " +
      "policy against this channel type",
    fix: "close other sessions to the device; check the account's restrictions",
  },
  2: {
    why: "the server could not open it: for a session channel this is how OpenSSH refuses a " +
      "session over its limit (MaxSessions) or a failed session set-up; for a forwarding, the " +
      "target is down",
    fix: "close other sessions on this connection or to the device; check the server's logs " +
      "(MaxSessions)",
  },
  3: { why: "the server does not know this channel type", fix: null },
  4: {
    why: "the server is out of resources: too many sessions or all vty lines busy",
    fix: "close other sessions to the device (or clear stale vty lines), then retry",
  },
};

function refineOpenRefused(c: FailureContext<"session.channel-open-refused">): Refinement {
  const code = num(c.details, "reasonCode");
  const reason = str(c.details, "reason") ?? "unknown reason";
  const description = str(c.details, "description");
  const type = str(c.details, "channelType") ?? "session";
  const help = code !== null ? OPEN_FAILURE_HELP[code] : undefined;
  if (type === "direct-tcpip" && (code === 1 || code === 2)) {
    return {
      title: `the server refused to open a direct-tcpip channel: ${reason} (code ${code})`,
      explanation: "The connection is authenticated, but the server would not open the TCP " +
        "connection it was asked to forward (-W, -L, or a jump host's tunnel)" +
        (description ? ` ("${description}")` : "") +
        (code === 1
          ? ": forwarding is off there (OpenSSH: AllowTcpForwarding no, DisableForwarding yes, " +
            "a PermitOpen list, or a no-port-forwarding key option)."
          : ": the server could not connect to that host and port (wrong address as seen " +
            "from the server, nothing listening, or a firewall between them)."),
      fix: code === 1
        ? "on the server set AllowTcpForwarding yes in sshd_config (and PermitOpen, if set, " +
          "must list the target); or forward through another host"
        : "check the host and port as seen from the server",
      opensshFix: code === 1 ? "sshd_config on the server: AllowTcpForwarding yes" : null,
    };
  }
  return {
    title: `the server refused to open a ${type} channel: ${reason}` +
      (code !== null ? ` (code ${code})` : ""),
    explanation: `The connection is authenticated, but the server would not open a ${type} ` +
      "channel" + (description ? ` ("${description}")` : "") +
      (help ? `: ${help.why}.` : "."),
    fix: help?.fix ?? null,
  };
}
