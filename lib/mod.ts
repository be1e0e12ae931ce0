/**
 * sshtrace as a library: probe a server, log in and run commands from a Deno script, with the
 * same staged trace and report the CLI prints.
 *
 * @example Probe a host and print its JSON report
 * ```ts
 * import { probe, probeReport, reportToJson } from "./lib/mod.ts";
 * const report = probeReport(await probe({ host: "127.0.0.1", port: 22 }));
 * console.log(reportToJson(report));
 * ```
 *
 * @example Run a command with a key file
 * ```ts
 * import { connect, loadPrivateKeyFile } from "./lib/mod.ts";
 * const key = await loadPrivateKeyFile("/home/me/.ssh/id_ed25519");
 * const client = await connect({
 *   host: "10.0.0.1",
 *   user: "admin",
 *   strictHostKeyChecking: "accept-new",
 *   auth: { signers: () => Promise.resolve([key]) },
 * });
 * const { stdout, exit } = await client.exec("uname -a");
 * await client.close();
 * ```
 * @module
 */

export { type ClientOptions, openTransport } from "./client/open_transport.ts";
export {
  Client,
  connect,
  type ConnectOptions,
  probe,
  type ProbeOptions,
  type ProbeResult,
  type SessionStart,
} from "./client.ts";
export { abortedError, runLifecycle, type RunOutcome, StopReason } from "./run.ts";
export type { HopTrace, JumpHost } from "./jump/chain.ts";
export { parseJumpSpec } from "./config/jump_spec.ts";
export { type ForwardSpec, parseDynamicSpec, parseForwardSpec } from "./forward/spec.ts";
export type { LocalForward } from "./forward/local.ts";
export type { RemoteForward } from "./forward/remote.ts";
export { checkFleet, type CheckOptions, type CheckResult, type HostReport } from "./check/check.ts";
export { type InventoryEntry, parseInventory, readInventory } from "./check/inventory.ts";
export { toJunitXml } from "./check/junit.ts";
export {
  type CommandResult,
  type CommandStatus,
  runShell,
  type SendOptions,
  type SendResult,
  sessionIo,
} from "./send/engine.ts";
export {
  type Attrs,
  kindOf,
  type NameEntry,
  OPEN,
  type SftpChannel,
  SftpClient,
  type SftpOptions,
} from "./transfer/sftp_client.ts";
export {
  type CopyOptions,
  downloadFile,
  downloadTree,
  type FileResult,
  type TreeResult,
  uploadFile,
  uploadTree,
} from "./transfer/sftp_files.ts";
export { copy, type CopyReport, type CopyRequest, type ProtocolChoice } from "./transfer/copy.ts";
export { rejectionError, runShellOnClient } from "./send/over_ssh.ts";
export type { SecretSource } from "./send/privilege.ts";
export { explainFailure, slowStages } from "./diagnose/explain.ts";
export { gradeServer } from "./diagnose/grade.ts";
export { type DetailsOf, type ErrorCode, SshError } from "./errors/mod.ts";
export { type Span, type TraceEvent, Tracer } from "./trace.ts";
export { EXIT_CODES, exitCodeFor, INTERRUPTED_EXIT_CODE, type Stage, STAGES } from "./types.ts";
export { buildReport, probeReport, type Report } from "./render/report.ts";
export { createNdjsonSink, reportToJson } from "./render/ndjson.ts";
export { createHumanRenderer } from "./render/human.ts";
export { sanitize, toJson } from "./render/sanitize.ts";
export { loadPrivateKeyFile, parsePrivateKey } from "./keys/private_key.ts";
export { AgentClient } from "./keys/agent.ts";
export type { Signer } from "./auth/types.ts";
export type { PasswordRequest, PasswordSource } from "./auth/userauth.ts";
export { buildOffer, type ListCategory, REGISTRIES } from "./algorithms/registry.ts";
export type { StreamTransform } from "./algorithms/types.ts";
export type { ByteStream } from "./transport/stream.ts";
export { memoryPipe } from "./transport/stream.ts";
