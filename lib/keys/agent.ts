/**
 * An ssh-agent client (draft-miller-ssh-agent): lists the agent's identities and signs with them
 * over the Unix socket named by `SSH_AUTH_SOCK`. Every answer is awaited with a timeout.
 * @module
 */

import { concatBytes, decodeText, SshReader, SshWriter } from "../wire/buffer.ts";
import type { Signer } from "../auth/types.ts";
import { algorithmsForKeyType, signatureNameOf } from "./signer.ts";
import { parsePublicKey } from "../algorithms/pubkey.ts";
import { type Conn, platform } from "../platform/mod.ts";

/** Agent protocol message numbers (draft-miller-ssh-agent §6.1). */
export const AGENT_MSG = {
  FAILURE: 5,
  SUCCESS: 6,
  REQUEST_IDENTITIES: 11,
  IDENTITIES_ANSWER: 12,
  SIGN_REQUEST: 13,
  SIGN_RESPONSE: 14,
} as const;

/** Sign request flags (draft-miller-ssh-agent §6.5.1). */
export const AGENT_SIGN_FLAGS = {
  RSA_SHA2_256: 2,
  RSA_SHA2_512: 4,
} as const;

/** The largest agent message accepted (OpenSSH's own limit). */
const MAX_MESSAGE = 256 * 1024;

/** Default time to wait for each answer from the agent. */
export const DEFAULT_AGENT_TIMEOUT_MS = 10_000;

/** The agent could not be reached, refused a request, or answered out of protocol. */
export class AgentError extends Error {
  override name = "AgentError";
}

/** Options for {@link AgentClient.connect}. */
export interface AgentOptions {
  /** Milliseconds to wait for each answer (default 10 000). */
  timeoutMs?: number;
}

/** Signature flags an agent needs for `algorithm` (non-zero only for RSA SHA-2). */
export function signFlagsFor(algorithm: string): number {
  const base = signatureNameOf(algorithm);
  if (base === "rsa-sha2-256") return AGENT_SIGN_FLAGS.RSA_SHA2_256;
  if (base === "rsa-sha2-512") return AGENT_SIGN_FLAGS.RSA_SHA2_512;
  return 0;
}

function messageName(type: number): string {
  const entry = Object.entries(AGENT_MSG).find(([, n]) => n === type);
  return entry ? `${entry[0]} (${type})` : `message ${type}`;
}

/** A connection to ssh-agent. Requests are sent one at a time, in call order. */
export class AgentClient {
  readonly path: string;
  readonly timeoutMs: number;
  #conn: Conn;
  #pending: Uint8Array = new Uint8Array(0);
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(conn: Conn, path: string, timeoutMs: number) {
    this.#conn = conn;
    this.path = path;
    this.timeoutMs = timeoutMs;
  }

  /** Connects to the agent at `path` (default: `SSH_AUTH_SOCK`). */
  static async connect(path?: string, options: AgentOptions = {}): Promise<AgentClient> {
    let socket = path;
    if (socket === undefined) {
      if (!platform.granted({ name: "env", variable: "SSH_AUTH_SOCK" })) {
        throw new AgentError("cannot read SSH_AUTH_SOCK (environment access denied)");
      }
      socket = platform.env("SSH_AUTH_SOCK");
    }
    if (!socket) throw new AgentError("no ssh-agent: SSH_AUTH_SOCK is not set");
    let conn: Conn;
    try {
      conn = await platform.connectUnix(socket);
    } catch (e) {
      const kind = platform.errorKind(e);
      const why = kind === "not-found"
        ? "no such socket"
        : kind === "connection-refused"
        ? "connection refused (is the agent running?)"
        : kind === "permission-denied"
        ? "permission denied"
        : (e as Error).message;
      throw new AgentError(`cannot connect to ssh-agent at ${socket}: ${why}`, { cause: e });
    }
    return new AgentClient(conn, socket, options.timeoutMs ?? DEFAULT_AGENT_TIMEOUT_MS);
  }

  /** The agent's keys (SSH2_AGENTC_REQUEST_IDENTITIES), as signers whose source is `agent`. */
  async identities(): Promise<Signer[]> {
    const [type, body] = await this.#request(new Uint8Array([AGENT_MSG.REQUEST_IDENTITIES]));
    if (type !== AGENT_MSG.IDENTITIES_ANSWER) {
      throw this.#unexpected("REQUEST_IDENTITIES", type);
    }
    const r = new SshReader(body, "ssh-agent IDENTITIES_ANSWER");
    const signers: Signer[] = [];
    try {
      const count = r.uint32("key count");
      for (let i = 0; i < count; i++) {
        const blob = r.string("key blob").slice();
        const comment = r.text("comment");
        let info: { type: string; bits: number };
        try {
          info = parsePublicKey(blob);
        } catch {
          // A key blob we cannot decode is still usable by its type name, if it has one.
          try {
            info = { type: new SshReader(blob).text(), bits: 0 };
          } catch {
            continue;
          }
        }
        signers.push(new AgentSigner(this, blob, info.type, info.bits, comment));
      }
      r.end();
    } catch (e) {
      throw new AgentError(`ssh-agent sent a malformed identity list: ${(e as Error).message}`, {
        cause: e,
      });
    }
    return signers;
  }

  /**
   * Asks the agent to sign `data` with the key `publicBlob` (SSH2_AGENTC_SIGN_REQUEST); returns
   * the signature blob exactly as the agent sent it.
   */
  async sign(publicBlob: Uint8Array, data: Uint8Array, flags = 0): Promise<Uint8Array> {
    const message = new SshWriter().byte(AGENT_MSG.SIGN_REQUEST).string(publicBlob).string(data)
      .uint32(flags).bytes();
    const [type, body] = await this.#request(message);
    if (type === AGENT_MSG.FAILURE) {
      throw new AgentError("ssh-agent refused to sign (SSH_AGENT_FAILURE)");
    }
    if (type !== AGENT_MSG.SIGN_RESPONSE) throw this.#unexpected("SIGN_REQUEST", type);
    try {
      const r = new SshReader(body, "ssh-agent SIGN_RESPONSE");
      const signature = r.string("signature").slice();
      r.end();
      return signature;
    } catch (e) {
      throw new AgentError(`ssh-agent sent a malformed signature: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Closes the connection; later requests fail. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  #unexpected(request: string, type: number): AgentError {
    if (type === AGENT_MSG.FAILURE) {
      return new AgentError(`ssh-agent refused ${request} (SSH_AGENT_FAILURE)`);
    }
    return new AgentError(`ssh-agent answered ${request} with unexpected ${messageName(type)}`);
  }

  /** Sends one message and reads one answer, after any earlier request has finished. */
  #request(payload: Uint8Array): Promise<[number, Uint8Array]> {
    const run = this.#queue.then(() => this.#exchange(payload));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #exchange(payload: Uint8Array): Promise<[number, Uint8Array]> {
    if (this.#closed) throw new AgentError("the ssh-agent connection is closed");
    const frame = new SshWriter(payload.length + 4).string(payload).bytes();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A late answer would be read as the answer to the next request: drop the connection.
        this.close();
        reject(new AgentError(`ssh-agent did not answer within ${this.timeoutMs / 1000} s`));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([this.#roundTrip(frame), timeout]);
    } catch (e) {
      this.close();
      if (e instanceof AgentError) throw e;
      throw new AgentError(`ssh-agent connection failed: ${(e as Error).message}`, { cause: e });
    } finally {
      clearTimeout(timer);
    }
  }

  async #roundTrip(frame: Uint8Array): Promise<[number, Uint8Array]> {
    let written = 0;
    while (written < frame.length) written += await this.#conn.write(frame.subarray(written));
    const header = await this.#readExact(4);
    const length = new DataView(header.buffer, header.byteOffset, 4).getUint32(0);
    if (length === 0 || length > MAX_MESSAGE) {
      throw new AgentError(`ssh-agent sent a message of invalid length ${length}`);
    }
    const message = await this.#readExact(length);
    return [message[0]!, message.subarray(1)];
  }

  async #readExact(n: number): Promise<Uint8Array> {
    while (this.#pending.length < n) {
      const chunk = new Uint8Array(Math.max(4096, n - this.#pending.length));
      let got: number | null;
      try {
        got = await this.#conn.read(chunk);
      } catch (e) {
        if (this.#closed) throw new AgentError("the ssh-agent connection is closed");
        throw e;
      }
      if (got === null) throw new AgentError("ssh-agent closed the connection");
      this.#pending = concatBytes(this.#pending, chunk.subarray(0, got));
    }
    const out = this.#pending.slice(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }
}

/** A key held by ssh-agent. */
class AgentSigner implements Signer {
  readonly type: string;
  readonly publicBlob: Uint8Array;
  readonly bits: number;
  readonly comment: string;
  readonly source = "agent";
  readonly algorithms: readonly string[];
  readonly #agent: AgentClient;

  constructor(agent: AgentClient, blob: Uint8Array, type: string, bits: number, comment: string) {
    this.#agent = agent;
    this.publicBlob = blob;
    this.type = type;
    this.bits = bits;
    this.comment = comment;
    this.algorithms = algorithmsForKeyType(type);
  }

  async sign(data: Uint8Array, algorithm: string): Promise<Uint8Array> {
    if (!this.algorithms.includes(algorithm)) {
      throw new AgentError(
        `agent key ${this.comment || this.type} (${this.type}) cannot sign with ${algorithm}; ` +
          `it supports ${this.algorithms.join(", ")}`,
      );
    }
    const signature = await this.#agent.sign(this.publicBlob, data, signFlagsFor(algorithm));
    const expected = signatureNameOf(algorithm);
    let got: string;
    try {
      got = decodeText(new SshReader(signature, "agent signature").string("signature name"));
    } catch (e) {
      throw new AgentError(`ssh-agent sent a malformed signature: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (got !== expected) {
      throw new AgentError(
        `ssh-agent signed with ${got} when ${expected} was asked for (agent too old for SHA-2?)`,
      );
    }
    return signature;
  }
}
