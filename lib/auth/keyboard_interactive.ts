/**
 * The `keyboard-interactive` method (RFC 4256). A single hidden prompt that asks for a password
 * (how most switches ask) is answered from the password source; other prompts go to the
 * responder (a terminal). Prompts and echo flags are traced; answers never are.
 * @module
 */

import { SshWriter } from "../wire/buffer.ts";
import { MSG } from "../wire/messages.ts";
import type {
  AuthMethod,
  AuthSession,
  KbdInteractiveRequest,
  KbdInteractiveResponder,
  MethodOutcome,
  PasswordRequest,
  PasswordSource,
} from "./userauth.ts";

/** A prompt that asks for a password, in the words servers use. */
export const PASSWORD_PROMPT = /pass(word|code)?|passwd|口令|密码/i;

/** How many conversations a person gets (OpenSSH's NumberOfPasswordPrompts). */
const USER_TRIES = 3;
/** INFO_REQUEST rounds in one conversation before we call it a loop. */
const MAX_ROUNDS = 32;

/** Why a request could not be answered, and whether the method is a failure or merely skipped. */
interface Abandon {
  abandon: string;
  result: "failure" | "skipped";
}

/** Answers to one request, and where they came from (never traced). */
interface Answered {
  answers: string[];
  /** Answered from the password source. */
  password: boolean;
  /** A person typed them (worth another try if wrong). */
  fromUser: boolean;
}

/** Decodes an INFO_REQUEST (RFC 4256 §3.2). */
export function parseInfoRequest(session: AuthSession, payload: Uint8Array): KbdInteractiveRequest {
  return session.parse(payload, "USERAUTH_INFO_REQUEST", (r) => {
    const name = r.text("name");
    const instruction = r.text("instruction");
    r.text("language tag");
    const count = r.uint32("num-prompts");
    if (count > 256) throw session.protocolError(`INFO_REQUEST with ${count} prompts`);
    const prompts: KbdInteractiveRequest["prompts"] = [];
    for (let i = 0; i < count; i++) {
      prompts.push({ prompt: r.text("prompt"), echo: r.bool("echo") });
    }
    return { name, instruction, prompts };
  });
}

/** Server text in quotes, as sent: renderers sanitize it (lib/render/sanitize.ts). */
const quote = (text: string) => `"${text}"`;

/** A one-line description of a request for the trace (texts as sent; renderers sanitize). */
function describe(req: KbdInteractiveRequest): string {
  const head = `keyboard-interactive request${req.name ? ` ${quote(req.name)}` : ""}` +
    (req.instruction ? ` (instruction ${quote(req.instruction)})` : "");
  if (req.prompts.length === 0) return `${head}: no prompts`;
  const prompts = req.prompts.map((p) => `${quote(p.prompt)} (${p.echo ? "echoed" : "hidden"})`);
  return `${head}: ${req.prompts.length} prompt(s): ${prompts.join(", ")}`;
}

export class KbdInteractiveMethod implements AuthMethod {
  readonly name = "keyboard-interactive";
  exhausted = false;
  readonly #responder: KbdInteractiveResponder | null;
  readonly #password: PasswordSource | null;
  readonly #batch: boolean;
  readonly #who: Omit<PasswordRequest, "serverPrompt">;
  #tries = 0;

  constructor(
    responder: KbdInteractiveResponder | null,
    password: PasswordSource | null,
    batchMode: boolean,
    who: Omit<PasswordRequest, "serverPrompt">,
  ) {
    this.#batch = batchMode;
    this.#who = who;
    this.#responder = batchMode ? null : responder;
    this.#password = password && batchMode && password.fromUser ? null : password;
  }

  get capable(): boolean {
    return this.#responder !== null || this.#password !== null;
  }

  async next(session: AuthSession): Promise<MethodOutcome> {
    if (!this.capable) {
      this.exhausted = true;
      if (this.#batch) {
        session.batchBlocked = true;
        session.skip(this.name, "batch mode: will not prompt, and no password source is given");
      } else {
        session.skip(this.name, "no password source and no terminal to answer prompts");
      }
      return "exhausted";
    }
    this.#tries++;
    const index = session.attempt(this.name, "starting a keyboard-interactive conversation");
    // string language tag (deprecated, empty), string submethods (empty: server's choice).
    await session.send(session.request(this.name).string("").string("").bytes());

    let askedUser = false;
    let passwordUsed = false;
    for (let round = 0;; round++) {
      const reply = await session.reply(this.name, true);
      if (reply.kind !== "method") {
        session.settle(index, reply);
        // A person may retype; a stored password would fail the same way again.
        if (!askedUser || this.#tries >= USER_TRIES) this.exhausted = true;
        if (reply.kind === "success") return "success";
        return reply.partial ? "partial" : "failure";
      }
      if (round >= MAX_ROUNDS) {
        throw session.protocolError(`the server sent more than ${MAX_ROUNDS} INFO_REQUESTs`);
      }
      const req = parseInfoRequest(session, reply.payload);
      session.info(describe(req));

      let answered: Answered | Abandon;
      if (req.prompts.length === 0) {
        answered = { answers: [], password: false, fromUser: false };
        session.info("answered with zero responses");
      } else {
        answered = await this.#answer(session, req, passwordUsed);
      }
      if ("abandon" in answered) {
        // Not answering: the next USERAUTH_REQUEST (if any) abandons this conversation.
        this.exhausted = true;
        session.settle(index, answered.result);
        session.info(`keyboard-interactive abandoned: ${answered.abandon}`);
        return "exhausted";
      }
      passwordUsed ||= answered.password;
      askedUser ||= answered.fromUser;
      const w = new SshWriter().byte(MSG.USERAUTH_INFO_RESPONSE).uint32(answered.answers.length);
      for (const a of answered.answers) w.string(a);
      await session.send(w.bytes());
    }
  }

  async #answer(
    session: AuthSession,
    req: KbdInteractiveRequest,
    passwordUsed: boolean,
  ): Promise<Answered | Abandon> {
    const only = req.prompts.length === 1 ? req.prompts[0]! : null;
    // A person answers at the terminal through the responder, which also shows the request's
    // name and instruction (as ssh does); the password source answers for scripts.
    const source = this.#password?.fromUser && this.#responder ? null : this.#password;
    if (source && only && !only.echo && PASSWORD_PROMPT.test(only.prompt)) {
      if (passwordUsed && !source.fromUser) {
        return {
          abandon: "the server asked for the password again: the one given was not accepted",
          result: "failure",
        };
      }
      const password = await source.get({ ...this.#who, serverPrompt: only.prompt });
      if (password !== null) {
        session.info("answered the password prompt from the password source");
        return { answers: [password], password: true, fromUser: source.fromUser };
      }
    }
    if (this.#responder) {
      const answers = await this.#responder(req);
      if (answers === null) return { abandon: "cancelled at the prompt", result: "skipped" };
      if (answers.length !== req.prompts.length) {
        throw new TypeError(
          `keyboard-interactive responder gave ${answers.length} answers to ` +
            `${req.prompts.length} prompts`,
        );
      }
      session.info(`answered ${answers.length} prompt(s) at the terminal`);
      return { answers, password: false, fromUser: true };
    }
    const texts = req.prompts.map((p) => quote(p.prompt)).join(", ");
    if (this.#batch) {
      session.batchBlocked = true;
      return { abandon: `batch mode cannot answer the prompt(s) ${texts}`, result: "skipped" };
    }
    return { abandon: `nothing can answer the prompt(s) ${texts}`, result: "skipped" };
  }
}
