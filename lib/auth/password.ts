/**
 * The `password` method (RFC 4252 §8). The password goes only into the request: traces say
 * "password provided", nothing about its text or length. A password change request is reported,
 * never acted on.
 * @module
 */

import { SshError } from "../errors/mod.ts";
import type {
  AuthMethod,
  AuthSession,
  MethodOutcome,
  PasswordRequest,
  PasswordSource,
} from "./userauth.ts";

/** How many times a person is asked by default (OpenSSH's NumberOfPasswordPrompts). */
const USER_TRIES = 3;

export class PasswordMethod implements AuthMethod {
  readonly name = "password";
  exhausted = false;
  readonly #source: PasswordSource | null;
  readonly #batch: boolean;
  readonly #who: { user: string; host: string | null };
  #tries = 0;
  readonly #maxTries: number;

  constructor(
    source: PasswordSource | null,
    batchMode: boolean,
    who: Omit<PasswordRequest, "serverPrompt">,
    maxTries = USER_TRIES,
  ) {
    this.#maxTries = maxTries;
    this.#source = source;
    this.#batch = batchMode;
    this.#who = who;
  }

  /** The source we may use: none in batch mode if a person would have to type it. */
  get #usable(): PasswordSource | null {
    if (this.#source && this.#batch && this.#source.fromUser) return null;
    return this.#source;
  }

  get capable(): boolean {
    return this.#usable !== null;
  }

  async next(session: AuthSession): Promise<MethodOutcome> {
    const source = this.#usable;
    if (source === null) {
      this.exhausted = true;
      if (this.#batch) {
        session.batchBlocked = true;
        session.skip(this.name, "batch mode: will not prompt for a password");
      } else {
        session.skip(this.name, "no password source given");
      }
      return "exhausted";
    }
    const password = await source.get({ ...this.#who, serverPrompt: null });
    if (password === null) {
      this.exhausted = true;
      session.skip(this.name, "no password given");
      return "exhausted";
    }
    this.#tries++;
    // The same password from a file or variable would fail the same way again.
    if (!source.fromUser || this.#tries >= this.#maxTries) this.exhausted = true;

    const index = session.attempt(this.name, "password provided");
    await session.send(session.request(this.name).bool(false).string(password).bytes());
    const reply = await session.reply(this.name, true);
    if (reply.kind === "method") {
      // SSH_MSG_USERAUTH_PASSWD_CHANGEREQ: string prompt, string language tag.
      const prompt = session.parse(reply.payload, "USERAUTH_PASSWD_CHANGEREQ", (r) => {
        const text = r.text("prompt");
        r.text("language tag");
        return text;
      });
      session.settle(index, "failure");
      throw new SshError(
        "auth",
        "auth.password-change-requested",
        `the server requires the password of user "${session.user}" to be changed before ` +
          `logging in${prompt ? ` (it says: "${prompt.trim()}")` : ""}; sshtrace does not ` +
          "change passwords",
        session.details({ prompt }),
      );
    }
    session.settle(index, reply);
    if (reply.kind === "success") return "success";
    return reply.partial ? "partial" : "failure";
  }
}
