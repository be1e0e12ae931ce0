/**
 * The failure catalogue's entries for file transfers (stage `transfer`): SFTP and SCP copies,
 * their remote errors, unsafe names sent by a server, local write failures and verification.
 * @module
 */

import type { StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const TRANSFER = {
  "transfer.no-such-file": {
    stage: "transfer",
    title: "the file does not exist",
    explanation: "The server answered that the path does not exist (SFTP status NO_SUCH_FILE, or " +
      "an SCP error line saying so). Remote paths are relative to the login directory unless " +
      "they start with /; on switches the file system is often named (flash:/, cfcard:/).",
    fix: "check the remote path (sshtrace HOST ls -la DIR, or the device's dir command)",
    opensshFix: null,
  },
  "transfer.permission-denied": {
    stage: "transfer",
    title: "permission denied on the remote file",
    explanation: "The server refused to read or write the path for this user (SFTP status " +
      "PERMISSION_DENIED): file or directory permissions, a chroot, or a read-only share.",
    fix: "log in as a user allowed to read/write it, or pick another remote directory",
    opensshFix: null,
  },
  "transfer.remote-error": {
    stage: "transfer",
    title: "the server reported an error during the copy",
    explanation: "The server refused the operation with the words quoted above (an SFTP status " +
      "such as FAILURE — often a full disk or quota, or a name that already exists — or an SCP " +
      "error line).",
    fix: "read the server's words above; check free space and quota on the remote side",
    opensshFix: null,
    refine: (c) =>
      c.details.noScp === true
        ? {
          title: "the server cannot run scp",
          explanation: "The server ran the scp command for the copy, but it has no scp " +
            "program (its shell said so above). Servers like that usually offer SFTP instead.",
          fix: "--protocol sftp",
        }
        : {},
  },
  "transfer.not-a-file": {
    stage: "transfer",
    title: "a directory (or special file) where a file was expected",
    explanation: "The remote path is not a regular file, so it cannot be copied as one.",
    fix: "-r to copy a directory",
    opensshFix: "scp -r / sftp get -R",
  },
  "transfer.unsafe-name": {
    stage: "transfer",
    title: "the server sent an unsafe file name; it was refused",
    explanation: "During a recursive download the server named an entry with `..`, an absolute " +
      "path or a `/` inside the name: writing it would land outside the destination directory " +
      "(the attack of CVE-2019-6111 against scp clients). Nothing was written for that entry. " +
      "A trustworthy server never sends such a name: treat this server as compromised or broken.",
    fix: null,
    opensshFix: null,
  },
  "transfer.no-sftp": {
    stage: "transfer",
    title: "the server has no SFTP subsystem",
    explanation: "The server refused the `sftp` subsystem request: SFTP is not enabled (no " +
      "Subsystem sftp line in sshd_config, or a switch with only an SCP server).",
    fix: "--protocol scp (or --protocol auto, which falls back to SCP)",
    opensshFix: "scp -O (the legacy SCP protocol)",
  },
  "transfer.incomplete": {
    stage: "transfer",
    title: "the copy ended before the whole file arrived",
    explanation: "The channel or the connection closed, or the SCP peer stopped, before every " +
      "byte was transferred. The partial data was kept under a temporary name only (never under " +
      "the final name).",
    fix: "run it again; with SFTP, --resume continues from the partial copy",
    opensshFix: null,
  },
  "transfer.local-error": {
    stage: "transfer",
    title: "the local file could not be read or written",
    explanation: "Reading the source or writing the destination on this machine failed: a " +
      "missing directory, no permission, or a full disk. Nothing was left under the final name.",
    fix: "check the local path, its permissions and free disk space",
    opensshFix: null,
  },
  "transfer.verify-mismatch": {
    stage: "transfer",
    title: "the copy's checksum differs from the original",
    explanation: "--verify computed SHA-256 on both sides and they differ: the file changed " +
      "during the copy, or data was corrupted. The copy was kept so it can be compared.",
    fix: "copy again; make sure nothing writes the file meanwhile",
    opensshFix: null,
  },
  "transfer.interrupted": {
    stage: "transfer",
    title: "the copy was interrupted (Ctrl-C)",
    explanation: "The copy was stopped before it finished. The partial data was removed (or, " +
      "with --resume, kept under a temporary name for the next run); nothing was left under the " +
      "final name. The exit code is 130, as for any program stopped by Ctrl-C.",
    fix: null,
    opensshFix: null,
  },
} satisfies StageEntries<"transfer">;
