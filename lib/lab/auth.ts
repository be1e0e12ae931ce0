/**
 * The server side of the service request and user authentication (RFC 4252, RFC 4256) for the
 * lab server: `none`, `password`, `publickey` (query, PK_OK, signature verified with the
 * registry's host key verifiers) and `keyboard-interactive` with one hidden "Password: "
 * prompt; a pre-auth banner; a limit on failed attempts.
 * @module
 */

import { findHostKey } from "../algorithms/registry.ts";
import { publicKeyType } from "../algorithms/pubkey.ts";
import { bytesEqual, SshReader, SshWriter, WireError } from "../wire/buffer.ts";
import { MSG } from "../wire/messages.ts";
import { REASON, type ServerTransport, Stop } from "./transport.ts";
import type { LabUser } from "./types.ts";

/** The data a publickey signature covers (RFC 4252 §7), built here on its own. */
function signedData(
  sessionId: Uint8Array,
  user: string,
  service: string,
  algorithm: string,
  blob: Uint8Array,
): Uint8Array {
  return new SshWriter().string(sessionId).byte(MSG.USERAUTH_REQUEST).string(user)
    .string(service).string("publickey").bool(true).string(algorithm).string(blob).bytes();
}

/** Constant-time string comparison (lengths may differ). */
function sameSecret(a: string, b: string): boolean {
  const enc = new TextEncoder();
  return bytesEqual(enc.encode(a), enc.encode(b));
}

/** The authenticated user and method. */
export interface AuthOutcome {
  user: string;
  method: string;
}

/**
 * Accepts the `ssh-userauth` service and runs user authentication until a user succeeds.
 * Ends with {@link Stop} when the client leaves or fails too often.
 */
export async function serveAuth(
  t: ServerTransport,
  log: (message: string) => void,
): Promise<AuthOutcome> {
  const config = t.config;
  const next = async (): Promise<SshReader> => {
    const p = await t.receive();
    if (p === null) throw new Stop("the client left during authentication");
    return new SshReader(p, "client message");
  };

  // Service request.
  for (;;) {
    const r = await next();
    const type = r.byte();
    if (type !== MSG.SERVICE_REQUEST) {
      await t.disconnect(REASON.PROTOCOL_ERROR, `expected SERVICE_REQUEST, got message ${type}`);
      throw new Stop("protocol error before the service request");
    }
    const service = readText(r);
    if (await t.at("service-request")) continue;
    if (service !== "ssh-userauth") {
      await t.disconnect(REASON.SERVICE_NOT_AVAILABLE, `service ${service} is not available`);
      throw new Stop(`unknown service ${service}`);
    }
    await t.send(new SshWriter().byte(MSG.SERVICE_ACCEPT).string(service).bytes());
    break;
  }
  await t.at("after-service");

  let failures = 0;
  let bannerSent = false;
  let pending: SshReader | null = null;
  const fail = async (partial = false) => {
    failures++;
    if (failures >= config.maxAuthTries) {
      await t.disconnect(REASON.NO_MORE_AUTH_METHODS_AVAILABLE, "Too many authentication failures");
      throw new Stop("too many authentication failures");
    }
    await t.send(
      new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(config.authMethods).bool(partial)
        .bytes(),
    );
  };

  for (;;) {
    const r: SshReader = pending ?? await next();
    pending = null;
    const type = r.byte();
    if (type !== MSG.USERAUTH_REQUEST) {
      // Stray INFO_RESPONSE and the like are ignored, as OpenSSH does.
      if (type === MSG.USERAUTH_INFO_RESPONSE) continue;
      await t.disconnect(REASON.PROTOCOL_ERROR, `unexpected message ${type} during authentication`);
      throw new Stop("protocol error during authentication");
    }
    let userName: string;
    let service: string;
    let method: string;
    try {
      userName = r.text("user");
      service = r.text("service");
      method = r.text("method");
    } catch (e) {
      await t.disconnect(
        REASON.PROTOCOL_ERROR,
        `malformed USERAUTH_REQUEST: ${(e as Error).message}`,
      );
      throw new Stop("malformed USERAUTH_REQUEST");
    }
    if (await t.at("userauth-request", { method })) continue;
    if (!bannerSent && config.banner !== null) {
      bannerSent = true;
      await t.send(
        new SshWriter().byte(MSG.USERAUTH_BANNER).string(config.banner).string("").bytes(),
      );
    }
    const user: LabUser | undefined = config.users.find((u) => u.name === userName);
    const offered = config.authMethods.includes(method);
    if (method === "none" || !offered || service !== "ssh-connection") {
      if (method === "none") await t.send(failureMessage(config.authMethods));
      else await fail();
      continue;
    }

    if (method === "password") {
      let password: string;
      try {
        const change = r.bool("change");
        password = r.text("password");
        if (change) r.text("new password");
      } catch {
        await fail();
        continue;
      }
      if (user?.password !== undefined && sameSecret(user.password, password)) {
        return await succeed(t, log, userName, method);
      }
      log(`password rejected for user "${userName}"`);
      await fail();
      continue;
    }

    if (method === "publickey") {
      let hasSignature: boolean;
      let algorithm: string;
      let blob: Uint8Array;
      let signature: Uint8Array | null = null;
      try {
        hasSignature = r.bool("has signature");
        algorithm = r.text("algorithm");
        blob = r.string("public key").slice();
        if (hasSignature) signature = r.string("signature").slice();
      } catch {
        await fail();
        continue;
      }
      const verifier = findHostKey(algorithm);
      let keyType = "";
      try {
        keyType = publicKeyType(blob);
      } catch {
        keyType = "";
      }
      const authorized = user?.authorizedKeys?.some((k) => bytesEqual(k, blob)) ?? false;
      const usable = authorized && verifier !== undefined && verifier.keyType === keyType &&
        config.serverSigAlgs.includes(algorithm);
      if (!usable) {
        log(`key ${algorithm} not accepted for user "${userName}"`);
        await fail();
        continue;
      }
      if (!signature) {
        await t.send(
          new SshWriter().byte(MSG.USERAUTH_PK_OK).string(algorithm).string(blob).bytes(),
        );
        continue;
      }
      let good = false;
      try {
        good = await verifier!.verify(
          blob,
          signature,
          signedData(t.sessionId, userName, service, algorithm, blob),
        );
      } catch (e) {
        if (!(e instanceof WireError)) throw e;
        good = false;
      }
      if (good) return await succeed(t, log, userName, method);
      log(`bad ${algorithm} signature from user "${userName}"`);
      await fail();
      continue;
    }

    if (method === "keyboard-interactive") {
      const kbd = config.kbdInteractive ?? { name: "", instruction: "", prompt: "Password: " };
      await t.send(
        new SshWriter().byte(MSG.USERAUTH_INFO_REQUEST).string(kbd.name).string(kbd.instruction)
          .string("").uint32(1).string(kbd.prompt).bool(false).bytes(),
      );
      const reply = await next();
      const replyType = reply.byte();
      if (replyType !== MSG.USERAUTH_INFO_RESPONSE) {
        // A new request abandons the conversation (RFC 4256 §3.4).
        pending = new SshReader(new Uint8Array([replyType, ...reply.rest()]), "client message");
        await fail();
        continue;
      }
      let answers: string[] = [];
      try {
        const n = reply.uint32("count");
        if (n > 16) throw new WireError("too many responses");
        for (let i = 0; i < n; i++) answers.push(reply.text("response"));
      } catch {
        answers = [];
      }
      if (
        answers.length === 1 && user?.password !== undefined &&
        sameSecret(user.password, answers[0]!)
      ) {
        return await succeed(t, log, userName, method);
      }
      log(`keyboard-interactive answer rejected for user "${userName}"`);
      await fail();
      continue;
    }
    await fail();
  }
}

function readText(r: SshReader): string {
  try {
    return r.text("service name");
  } catch {
    return "";
  }
}

function failureMessage(methods: string[]): Uint8Array {
  return new SshWriter().byte(MSG.USERAUTH_FAILURE).nameList(methods).bool(false).bytes();
}

async function succeed(
  t: ServerTransport,
  log: (message: string) => void,
  user: string,
  method: string,
): Promise<AuthOutcome> {
  await t.send(new Uint8Array([MSG.USERAUTH_SUCCESS]));
  t.authenticated();
  log(`user "${user}" logged in with ${method}`);
  await t.at("after-auth");
  return { user, method };
}
