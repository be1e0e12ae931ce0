/**
 * The user authentication protocol (RFC 4252): a `none` request to learn the methods, then
 * publickey, keyboard-interactive and password in the caller's order, following partial success.
 * Every failure ends in an `SshError` at stage `auth` whose code says what to fix.
 * Events name methods, keys (by fingerprint) and prompts, never passwords or answers.
 * @module
 */

import { type AuthDetails, type ErrorDetails, SshError } from "../errors/mod.ts";
import type { Tracer } from "../trace.ts";
import { Deadline } from "../transport/reader.ts";
import type { MessageTransport } from "../transport/message_transport.ts";
import { SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { messageName, MSG } from "../wire/messages.ts";
import { KbdInteractiveMethod } from "./keyboard_interactive.ts";
import { PasswordMethod } from "./password.ts";
import { PublicKeyMethod } from "./publickey.ts";
import type { Signer } from "./types.ts";

/**
 * What a password is asked for: the account, and the server's own prompt when the server asks
 * (keyboard-interactive). The words of a prompt are the caller's (the CLI renders
 * `user@host's password: `); this layer only says whose password it needs.
 */
export interface PasswordRequest {
  user: string;
  /** The server's name as the user gave it, or null. */
  host: string | null;
  /** The server's prompt (keyboard-interactive), or null for the `password` method. */
  serverPrompt: string | null;
}

/** Where a password comes from: an environment variable, a file or a terminal prompt. */
export interface PasswordSource {
  /** The password, or null when there is none (e.g. the user cancelled the prompt). */
  get(request: PasswordRequest): Promise<string | null>;
  /** True when a person types it (a TTY prompt): such a source is never used in batch mode. */
  readonly fromUser: boolean;
}

/** One keyboard-interactive INFO_REQUEST (RFC 4256 §3.2). */
export interface KbdInteractiveRequest {
  name: string;
  instruction: string;
  prompts: { prompt: string; echo: boolean }[];
}

/** Answers a keyboard-interactive request (one answer per prompt), or null to give up. */
export type KbdInteractiveResponder = (req: KbdInteractiveRequest) => Promise<string[] | null>;

/** OpenSSH's default PreferredAuthentications (without the GSSAPI and hostbased methods). */
export const DEFAULT_METHODS: readonly string[] = ["publickey", "keyboard-interactive", "password"];

export interface AuthOptions {
  user: string;
  /** Methods in order of preference (PreferredAuthentications); default {@link DEFAULT_METHODS}. */
  methods?: readonly string[];
  /** The keys to offer, loaded only when publickey is tried (key files, agent). */
  signers?: () => Promise<Signer[]>;
  password?: PasswordSource | null;
  kbdInteractive?: KbdInteractiveResponder | null;
  /** Never prompt: sources with `fromUser` and the responder are not used. */
  batchMode?: boolean;
  /** How many times a person is asked for the password (NumberOfPasswordPrompts). @default 3 */
  passwordPrompts?: number;
  /** Allow ssh-rsa (SHA-1) signatures. */
  legacy?: boolean;
  /** Send only the `none` request and report the methods the server offers. */
  probeOnly?: boolean;
  /** The server's name, only for the password request ({@link PasswordRequest.host}). */
  host?: string;
  /**
   * The time budget (ms) of each answer from the server, banners and anything else it sends
   * while we wait included (prompts are not waits for the server). Unset: the transport's.
   */
  timeoutMs?: number;
}

/** Banner text kept (and traced) at most; the rest is counted, not kept. */
export const BANNER_LIMITS = { maxBytes: 64 * 1024, maxMessages: 8 };

/**
 * What happened to one authentication attempt: `skipped`, a method or key not tried (recorded
 * here); `no reply`, tried with no answer seen (the report's, built from the trace).
 */
export type AttemptResult = "success" | "failure" | "partial" | "skipped" | "no reply";

export interface AuthAttempt {
  method: string;
  detail: string;
  result: AttemptResult;
  /** publickey: the signature algorithm the key was offered with. */
  algorithm?: string;
}

export interface AuthResult {
  user: string;
  /** The methods the server last said can continue (empty if `none` succeeded at once). */
  methods: string[];
  /** The USERAUTH_BANNER text(s), joined, or null if none was sent. */
  banner: string | null;
  attempts: AuthAttempt[];
  success: boolean;
  /** The method that succeeded, or null. */
  method: string | null;
}

/** What one step of a method came to. `exhausted`: nothing (more) we can do with it. */
export type MethodOutcome = "success" | "partial" | "failure" | "exhausted";

/** A user authentication method: each `next()` makes one attempt (one key, one password...). */
export interface AuthMethod {
  readonly name: string;
  /** Set once the method has nothing more to try. */
  readonly exhausted: boolean;
  /** Whether we have the means for this method at all (keys, a password, a responder). */
  readonly capable: boolean;
  next(session: AuthSession): Promise<MethodOutcome>;
}

/** The server's answer to a USERAUTH_REQUEST. */
export type Reply =
  | { kind: "success" }
  | { kind: "failure"; canContinue: string[]; partial: boolean }
  /** Message 60 (PK_OK, PASSWD_CHANGEREQ or INFO_REQUEST: its meaning depends on the method). */
  | { kind: "method"; payload: Uint8Array };

const TOO_MANY = /too many authentication failures/i;

/** Whether an error is the server's "Too many authentication failures" DISCONNECT. */
function isTooManyFailures(error: unknown): boolean {
  if (!(error instanceof SshError)) return false;
  const d = error.details;
  const code = typeof d.reasonCode === "number" ? d.reasonCode : null;
  const text = `${typeof d.description === "string" ? d.description : ""} ${error.message}`;
  return TOO_MANY.test(text) && (code === null || code === 2 || code === 14);
}

/** The state of one authentication run, shared by the methods. */
export class AuthSession {
  readonly transport: MessageTransport;
  readonly tracer: Tracer;
  readonly user: string;
  banner: string | null = null;
  /** The methods the server last said can continue. */
  methods: string[] = [];
  readonly attempts: AuthAttempt[] = [];
  /** A method was not used (or a prompt not answered) because batch mode forbids prompting. */
  batchBlocked = false;
  /** A key was not offered because no signature algorithm is acceptable to both sides. */
  noSignatureAlgorithm = false;
  /** Index into `attempts` just after the last partial success, or null. */
  partialAfter: number | null = null;
  /** The time budget of each answer (see {@link AuthOptions.timeoutMs}). */
  #timeoutMs: number | undefined;
  #banners = { messages: 0, capped: false };

  constructor(transport: MessageTransport, user: string, timeoutMs?: number) {
    this.transport = transport;
    this.tracer = transport.tracer;
    this.user = user;
    this.#timeoutMs = timeoutMs;
  }

  /** A USERAUTH_REQUEST header for `method`; the caller appends the method fields. */
  request(method: string): SshWriter {
    return new SshWriter().byte(MSG.USERAUTH_REQUEST).string(this.user).string("ssh-connection")
      .string(method);
  }

  async send(payload: Uint8Array): Promise<void> {
    try {
      await this.transport.send(payload, "auth");
    } catch (e) {
      throw this.#translate(e);
    }
  }

  /** Records and traces an attempt; returns its index for {@link settle}. */
  attempt(method: string, detail: string, algorithm?: string): number {
    this.tracer.emit({ stage: "auth", type: "attempt", method, detail });
    const record: AuthAttempt = { method, detail, result: "failure" };
    if (algorithm !== undefined) record.algorithm = algorithm;
    return this.attempts.push(record) - 1;
  }

  /** Records the outcome of attempt `index` from the server's reply. */
  settle(index: number, result: AttemptResult | Reply): void {
    const attempt = this.attempts[index];
    if (!attempt) return;
    if (typeof result === "string") attempt.result = result;
    else if (result.kind === "success") attempt.result = "success";
    else if (result.kind === "failure") attempt.result = result.partial ? "partial" : "failure";
  }

  /** Records a method or key we did not try, with the reason. */
  skip(method: string, detail: string): void {
    this.info(`${method} skipped: ${detail}`);
    this.attempts.push({ method, detail, result: "skipped" });
  }

  info(message: string): void {
    this.tracer.emit({ stage: "auth", type: "info", message });
  }

  /**
   * The next message for us, after any banners: the whole wait, banners included, has one
   * time budget (so a server cannot stretch it with banners).
   */
  async receive(): Promise<Uint8Array> {
    const ms = this.#timeoutMs;
    const budget = ms && ms > 0 ? new Deadline("auth", "answer from the server", ms) : undefined;
    for (;;) {
      let msg: Uint8Array | null;
      try {
        msg = await this.transport.receive(undefined, budget, "auth");
      } catch (e) {
        throw this.#translate(e);
      }
      if (msg === null) {
        throw new SshError(
          "auth",
          "auth.connection-closed",
          "the server closed the connection during user authentication",
          this.details(),
        );
      }
      if (msg[0] !== MSG.USERAUTH_BANNER) return msg;
      this.#onBanner(this.#parse(msg, "USERAUTH_BANNER", (r) => r.text("message")));
    }
  }

  /**
   * Keeps and traces banner text up to {@link BANNER_LIMITS}; past them a banner is traced by
   * its size only (the tracer sums such events up: "… N more banners (X MB) not shown").
   */
  #onBanner(text: string): void {
    const b = this.#banners;
    b.messages++;
    const kept = this.banner?.length ?? 0;
    const room = b.messages <= BANNER_LIMITS.maxMessages ? BANNER_LIMITS.maxBytes - kept : 0;
    const part = room > 0 ? text.slice(0, room) : "";
    if (part) this.banner = (this.banner ?? "") + part;
    this.tracer.emit({
      stage: "auth",
      type: "banner",
      text: part,
      ...(part.length < text.length ? { bytes: text.length } : {}),
    });
    if (part.length === text.length || b.capped) return;
    b.capped = true;
    this.info(
      `the server sends more banner text than is kept (${BANNER_LIMITS.maxMessages} messages, ` +
        `${BANNER_LIMITS.maxBytes / 1024} KiB): the rest is counted, not shown`,
    );
  }

  /**
   * The server's reply to a request for `method`: SUCCESS, FAILURE (traced; updates
   * `methods`) or, when `allowMethodMessage`, message 60. Anything else is `auth.protocol`.
   */
  async reply(method: string, allowMethodMessage: boolean): Promise<Reply> {
    const msg = await this.receive();
    switch (msg[0]) {
      case MSG.USERAUTH_SUCCESS:
        return { kind: "success" };
      case MSG.USERAUTH_FAILURE: {
        const [canContinue, partial] = this.#parse(msg, "USERAUTH_FAILURE", (r) => {
          const list = r.nameList("authentications that can continue");
          return [list, r.bool("partial success")] as const;
        });
        this.methods = [...canContinue];
        this.tracer.emit({
          stage: "auth",
          type: "failure",
          method,
          canContinue: [...canContinue],
          partialSuccess: partial,
        });
        return { kind: "failure", canContinue: [...canContinue], partial };
      }
      case 60:
        if (allowMethodMessage) return { kind: "method", payload: msg };
    }
    throw this.protocolError(
      `expected USERAUTH_SUCCESS or USERAUTH_FAILURE after a ${method} request, got ${
        messageName(msg[0] ?? -1)
      }`,
    );
  }

  /** Decodes a message with `read`; malformed data becomes `auth.protocol`. */
  parse<T>(msg: Uint8Array, what: string, read: (r: SshReader) => T): T {
    return this.#parse(msg, what, read);
  }

  #parse<T>(msg: Uint8Array, what: string, read: (r: SshReader) => T): T {
    try {
      const r = new SshReader(msg, what);
      r.byte();
      return read(r);
    } catch (e) {
      if (e instanceof WireError) throw this.protocolError(`malformed ${what}: ${e.message}`, e);
      throw e;
    }
  }

  protocolError(message: string, cause?: unknown): SshError {
    return new SshError("auth", "auth.protocol", message, this.details(), { cause });
  }

  /** The details every auth error carries: the methods the server offers and what we tried. */
  details<E extends ErrorDetails = Record<never, never>>(extra?: E): AuthDetails & E {
    return {
      methods: [...this.methods],
      tried: this.attempts.map((a) => ({ ...a })),
      ...extra,
    } as AuthDetails & E;
  }

  #translate(error: unknown): unknown {
    if (!isTooManyFailures(error)) return error;
    const keys = this.attempts.filter((a) => a.method === "publickey" && a.result !== "skipped");
    return new SshError(
      "auth",
      "auth.too-many-failures",
      `the server disconnected: "Too many authentication failures" after ${
        this.attempts.filter((a) => a.result !== "skipped").length
      } attempt(s) (${keys.length} key(s) offered); servers count every key offered as a failure`,
      this.details(),
      { cause: error },
    );
  }

  /** Success: traces it, tells the transport (delayed compression), builds the result. */
  succeed(method: string): AuthResult {
    this.tracer.emit({ stage: "auth", type: "success", method });
    this.transport.authenticated();
    return this.result(true, method);
  }

  result(success: boolean, method: string | null): AuthResult {
    return {
      user: this.user,
      methods: [...this.methods],
      banner: this.banner,
      attempts: this.attempts.map((a) => ({ ...a })),
      success,
      method,
    };
  }
}

/**
 * Authenticates `options.user` over an established transport (after `requestService`).
 * Returns the result on success (or after `none` with `probeOnly`); throws `SshError`
 * at stage `auth` when every usable method has failed.
 */
export async function authenticate(
  transport: MessageTransport,
  options: AuthOptions,
): Promise<AuthResult> {
  const session = new AuthSession(transport, options.user, options.timeoutMs);
  const batch = options.batchMode ?? false;

  const noneIndex = session.attempt("none", "asking which methods the server accepts");
  await session.send(session.request("none").bytes());
  const first = await session.reply("none", false);
  session.settle(noneIndex, first);
  if (first.kind === "success") return session.succeed("none");
  if (options.probeOnly) return session.result(false, null);

  const password = options.password ?? null;
  const who = { user: options.user, host: options.host ?? null };
  const methods: Record<string, AuthMethod> = {
    "publickey": new PublicKeyMethod(
      options.signers ?? (() => Promise.resolve([])),
      options.legacy ?? false,
    ),
    "keyboard-interactive": new KbdInteractiveMethod(
      options.kbdInteractive ?? null,
      password,
      batch,
      who,
    ),
    "password": new PasswordMethod(password, batch, who, options.passwordPrompts),
  };
  const order = options.methods ?? DEFAULT_METHODS;

  // Each step sends at most a few messages; the bound only stops a server that loops forever.
  for (let step = 0; step < 1000; step++) {
    const name = order.find((n) =>
      session.methods.includes(n) && Object.hasOwn(methods, n) && !methods[n]!.exhausted
    );
    if (name === undefined) throw failure(session, order, methods);
    const outcome = await methods[name]!.next(session);
    if (outcome === "success") return session.succeed(name);
    if (outcome === "partial") {
      session.partialAfter = session.attempts.length;
      session.info(
        `partial success with ${name}: the server now requires one of ${
          session.methods.join(", ") || "(none)"
        }`,
      );
    }
  }
  throw session.protocolError("the server kept authentication going for 1000 attempts");
}

/** The codes of "nothing left to try". */
type AuthFailureCode =
  | "auth.partial-needs-method"
  | "auth.password-rejected"
  | "auth.kbdint-failed"
  | "auth.batch-mode-needs-prompt"
  | "auth.rsa-sha2-refused"
  | "auth.key-rejected"
  | "auth.no-signature-algorithm"
  | "auth.no-common-method";

/** The error for "nothing left to try": the code names the most telling reason. */
function failure(
  session: AuthSession,
  order: readonly string[],
  methods: Record<string, AuthMethod>,
): SshError {
  const offered = session.methods;
  const attempts = session.attempts;
  const failed = (m: string) => attempts.some((a) => a.method === m && a.result === "failure");
  const user = session.user;
  const make = (code: AuthFailureCode, message: string, extra: ErrorDetails = {}) =>
    new SshError("auth", code, message, session.details(extra));
  const offeredText = offered.length ? offered.join(", ") : "no further methods";

  if (
    session.partialAfter !== null &&
    !attempts.slice(session.partialAfter).some((a) => a.result === "failure")
  ) {
    const done = attempts.filter((a) => a.result === "partial").map((a) => a.method);
    return make(
      "auth.partial-needs-method",
      `partial success with ${done.join(", ")}: the server also requires one of ${offeredText}, ` +
        "which we cannot provide",
    );
  }
  if (failed("password")) {
    return make(
      "auth.password-rejected",
      `the server rejected the password for user "${user}"`,
    );
  }
  if (failed("keyboard-interactive")) {
    return make(
      "auth.kbdint-failed",
      `keyboard-interactive authentication failed for user "${user}"`,
    );
  }
  if (session.batchBlocked) {
    return make(
      "auth.batch-mode-needs-prompt",
      `the server wants an answer typed at a prompt (offers: ${offeredText}) and batch mode ` +
        "does not prompt",
    );
  }
  if (failed("publickey")) {
    const keys = attempts.filter((a) => a.method === "publickey" && a.result === "failure");
    const accepts = offered.includes("publickey");
    const rsaSha2 = keys.filter((a) => a.algorithm?.startsWith("rsa-sha2-"));
    if (accepts && rsaSha2.length && session.transport.serverSigAlgs === null) {
      // No EXT_INFO: we guessed rsa-sha2 (RFC 8332 §3.3); servers older than RFC 8308
      // (OpenSSH < 7.2, many switches) verify RSA keys only with ssh-rsa (SHA-1) signatures.
      return make(
        "auth.rsa-sha2-refused",
        `the server refused the RSA key${rsaSha2.length === 1 ? "" : "s"} offered with ` +
          `${[...new Set(rsaSha2.map((a) => a.algorithm))].join(", ")} signatures for user ` +
          `"${user}"; it sent no server-sig-algs, so it may verify RSA keys only with ssh-rsa ` +
          "(SHA-1) signatures",
        { algorithms: rsaSha2.map((a) => a.algorithm) },
      );
    }
    return make(
      "auth.key-rejected",
      `the server rejected ${keys.length === 1 ? "the key" : `all ${keys.length} keys`} ` +
        `offered for user "${user}"` +
        (accepts ? "" : " and no longer accepts public keys") +
        (session.noSignatureAlgorithm ? " (some RSA keys were not offered: see tried)" : ""),
      { acceptsPublickey: accepts },
    );
  }
  if (session.noSignatureAlgorithm) {
    return make(
      "auth.no-signature-algorithm",
      "no signature algorithm acceptable to both sides for the RSA key(s): the server accepts " +
        "only ssh-rsa (SHA-1) signatures, which are off unless legacy algorithms are allowed",
    );
  }
  const ours = order.filter((n) => Object.hasOwn(methods, n) && methods[n]!.capable);
  return make(
    "auth.no-common-method",
    `no authentication method in common: the server offers ${offeredText}; ` +
      `we can do ${ours.length ? ours.join(", ") : "nothing (no key, password or prompt)"}`,
    { ours, allowed: [...order], implemented: Object.keys(methods) },
  );
}
