/**
 * The client options of one login from its settings (ssh_config resolved, flags applied): the
 * target's, or a jump host's own. Shared by every command that logs in.
 * @module
 */

import { parseSize, type Settings } from "../config/options.ts";
import type { ConnectOptions } from "../client.ts";
import type { Tracer } from "../trace.ts";
import { connectionOptions } from "./connection_options.ts";
import { DEFAULT_METHODS } from "../auth/userauth.ts";
import { platform } from "../platform/mod.ts";
import { canPrompt, confirm } from "./tty.ts";
import { keyboardResponder, type passwordSource, signerLoader } from "./credentials.ts";
import { env } from "./output.ts";
import type { ConnectFlags } from "./connect.ts";

/** What {@link loginOptions} builds the client options of one login from. */
export interface LoginInput {
  settings: Settings;
  flags: ConnectFlags;
  tracer: Tracer;
  timeoutMs: number;
  target: { host: string; port: number; user: string };
  password: Awaited<ReturnType<typeof passwordSource>>;
}

/**
 * The authentication methods to try: PreferredAuthentications (or the defaults) without those
 * turned off (PasswordAuthentication no, …); undefined leaves the client's defaults.
 */
export function authMethods(settings: Settings): string[] | undefined {
  const disabled = settings.disabledMethods;
  if (!disabled) return settings.preferredAuthentications;
  return (settings.preferredAuthentications ?? DEFAULT_METHODS).filter((m) =>
    !disabled.includes(m)
  );
}

/**
 * The client options of one login from its settings: the target's, or a jump host's own (each
 * hop resolves its configuration as the `ssh` that ssh -J runs does).
 */
export function loginOptions(input: LoginInput): ConnectOptions {
  const { settings, flags, tracer } = input;
  const tty = platform.stdin.isTerminal();
  const batch = settings.batchMode ?? flags.batch ?? false;
  const home = env("HOME") ?? ".";
  const strict = settings.strictHostKeyChecking ?? (tty && canPrompt() && !batch ? "ask" : "yes");
  const methods = authMethods(settings);
  // ProxyCommand is the route's to decide (a hop's own, or the first of ProxyJump/ProxyCommand).
  const { proxyCommand: _route, ...connection } = connectionOptions(settings, home);
  return {
    ...input.target,
    tracer,
    timeoutMs: input.timeoutMs,
    ...connection,
    legacy: flags.legacy ?? false,
    strictHostKeyChecking: strict,
    // Without a terminal nobody can answer: `ask` then refuses unknown keys, as ssh(1) does.
    ask: strict === "ask" && canPrompt() ? confirm : undefined,
    ...(flags.rekeyLimit ? { rekeyLimitBytes: parseSize(flags.rekeyLimit) } : {}),
    auth: {
      methods,
      signers: signerLoader(tracer, settings, flags, batch),
      password: input.password,
      kbdInteractive: keyboardResponder(batch),
      batchMode: batch,
      legacy: flags.legacy ?? false,
      ...(settings.passwordPrompts !== undefined
        ? { passwordPrompts: settings.passwordPrompts }
        : {}),
    },
  };
}
