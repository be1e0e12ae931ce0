import assert from "node:assert/strict";
import { chooseSignatureAlgorithm, fingerprintSha256 } from "../../../lib/auth/publickey.ts";
import { requestService } from "../../../lib/auth/service.ts";
import {
  authenticate,
  type AuthOptions,
  type KbdInteractiveRequest,
  type PasswordSource,
} from "../../../lib/auth/userauth.ts";
import { passwordPrompt } from "../../../lib/cli/connect.ts";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { concatBytes, encodeText } from "../../../lib/wire/buffer.ts";
import {
  banner,
  ed25519Signer,
  failure,
  infoRequest,
  parseInfoResponse,
  parseUserauthRequest,
  passwdChangeReq,
  pkOk,
  rsaSigner,
  serviceAccept,
  success,
  type TestSigner,
  userauthRequests,
  verifySignature,
} from "../../helpers/auth_messages.ts";
import { FakeTransport, type ServerScript } from "../../helpers/fake_transport.ts";
import { untypedError } from "../../helpers/errors.ts";

const SECRET = "Sw1tch-S3cret!";

/** A password source that counts how often it was asked. */
function passwordSource(value: string | null, fromUser = false) {
  const prompts: string[] = [];
  const source: PasswordSource & { prompts: string[] } = {
    fromUser,
    prompts,
    get(request) {
      prompts.push(passwordPrompt(request));
      return Promise.resolve(value);
    },
  };
  return source;
}

/** A server that answers `none` with `methods` and then runs `rest`. */
function server(methods: string[], rest: ServerScript): ServerScript {
  return (payload, fake) => {
    if (payload[0] === 50 && parseUserauthRequest(payload).method === "none") {
      return [failure(methods)];
    }
    return rest(payload, fake);
  };
}

/** Runs `authenticate` expecting an `SshError`, and returns it. */
async function authError(fake: FakeTransport, options: AuthOptions): Promise<SshError> {
  try {
    await authenticate(fake, options);
  } catch (e) {
    assert.ok(e instanceof SshError, `expected SshError, got ${e}`);
    assert.equal(e.stage, "auth");
    return e;
  }
  assert.fail("authenticate() succeeded but should have failed");
}

/** The signed data of RFC 4252 §7, built independently of the code under test. */
function expectedSignedData(
  sessionId: Uint8Array,
  user: string,
  alg: string,
  blob: Uint8Array,
): Uint8Array {
  const str = (b: Uint8Array | string) => {
    const bytes = typeof b === "string" ? encodeText(b) : b;
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, bytes.length);
    return concatBytes(len, bytes);
  };
  return concatBytes(
    str(sessionId),
    new Uint8Array([50]),
    str(user),
    str("ssh-connection"),
    str("publickey"),
    new Uint8Array([1]),
    str(alg),
    str(blob),
  );
}

/** A publickey server: PK_OK for `accepted` keys, verifies signatures, records what it saw. */
function publickeyServer(
  accepted: TestSigner[],
  onValid: () => Uint8Array = success,
  seen: { alg: string; verified: boolean }[] = [],
): ServerScript {
  return (payload, fake) => {
    const req = parseUserauthRequest(payload);
    if (req.method !== "publickey") return [failure(["publickey"])];
    const signer = accepted.find((s) =>
      fingerprintSha256(s.publicBlob) === fingerprintSha256(req.blob!)
    );
    if (!signer) return [failure(["publickey", "password"])];
    if (!req.hasSignature) return [pkOk(req.algorithm!, req.blob!)];
    const data = expectedSignedData(fake.sessionId, req.user, req.algorithm!, req.blob!);
    const { algorithm, valid } = verifySignature(signer, data, req.signature!);
    seen.push({ alg: algorithm, verified: valid });
    return valid && algorithm === req.algorithm ? [onValid()] : [failure(["publickey"])];
  };
}

Deno.test("requestService() sends SERVICE_REQUEST and traces SERVICE_ACCEPT", async () => {
  const fake = new FakeTransport({ server: () => [serviceAccept("ssh-userauth")] });
  await requestService(fake, "ssh-userauth");
  assert.deepEqual([...fake.sent[0]!], [5, 0, 0, 0, 12, ...encodeText("ssh-userauth")]);
  assert.ok(
    fake.tracer.events.some((e) => e.type === "service-accepted" && e.service === "ssh-userauth"),
  );
});

Deno.test("requestService() turns any other reply into auth.service-refused", async () => {
  const fake = new FakeTransport({ server: () => [failure(["password"])] });
  await assert.rejects(
    () => requestService(fake, "ssh-userauth"),
    (e) => e instanceof SshError && e.code === "auth.service-refused" && e.stage === "auth",
  );
});

Deno.test("authenticate() with probeOnly sends only none and reports the offered methods", async () => {
  const fake = new FakeTransport({ server: server(["publickey", "password"], () => []) });
  const result = await authenticate(fake, { user: "admin", probeOnly: true });
  assert.equal(fake.sent.length, 1);
  assert.deepEqual(userauthRequests(fake)[0], {
    user: "admin",
    service: "ssh-connection",
    method: "none",
  });
  assert.deepEqual(result.methods, ["publickey", "password"]);
  assert.equal(result.success, false);
  assert.equal(result.method, null);
  assert.deepEqual(result.attempts.map((a) => [a.method, a.result]), [["none", "failure"]]);
  const failureEvent = fake.tracer.events.find((e) => e.type === "failure");
  assert.deepEqual(
    failureEvent && failureEvent.type === "failure" ? failureEvent.canContinue : null,
    ["publickey", "password"],
  );
  assert.equal(fake.authenticatedCalls, 0);
  assert.ok(fake.receiveTimeouts.every((t) => t === undefined), "uses the transport's timeout");
});

Deno.test("authenticate() succeeds at once when the server accepts none", async () => {
  const fake = new FakeTransport({ server: () => [success()] });
  const result = await authenticate(fake, { user: "guest" });
  assert.equal(result.success, true);
  assert.equal(result.method, "none");
  assert.equal(fake.authenticatedCalls, 1);
});

Deno.test("authenticate() logs in with a password", async () => {
  const source = passwordSource(SECRET);
  const fake = new FakeTransport({
    server: server(["password"], (p) => {
      const req = parseUserauthRequest(p);
      return [req.method === "password" && req.password === SECRET ? success() : failure([])];
    }),
  });
  const result = await authenticate(fake, { user: "admin", password: source, host: "sw1" });
  assert.equal(result.success, true);
  assert.equal(result.method, "password");
  assert.deepEqual(source.prompts, ["admin@sw1's password: "]);
  assert.deepEqual(result.attempts.at(-1), {
    method: "password",
    detail: "password provided",
    result: "success",
  });
  assert.equal(fake.authenticatedCalls, 1);
  assert.ok(fake.tracer.events.some((e) => e.type === "success" && e.method === "password"));
});

Deno.test("authenticate() reports auth.password-rejected when the password fails and nothing is left", async () => {
  const source = passwordSource("wrong");
  const fake = new FakeTransport({ server: server(["password"], () => [failure(["password"])]) });
  const err = await authError(fake, { user: "admin", password: source });
  assert.equal(err.code, "auth.password-rejected");
  assert.deepEqual(err.details.methods, ["password"]);
  const tried = err.details.tried as { method: string; result: string }[];
  assert.deepEqual(tried.map((t) => [t.method, t.result]), [["none", "failure"], [
    "password",
    "failure",
  ]]);
  assert.equal(userauthRequests(fake).filter((r) => r.method === "password").length, 1, "one try");
  assert.equal(typeof explainFailure(err).fix, "string");
  assert.equal(err.details.fix, undefined, "the error carries data, not advice");
});

Deno.test("authenticate() retries a typed password up to three times", async () => {
  const source = passwordSource("typo", true);
  const fake = new FakeTransport({ server: server(["password"], () => [failure(["password"])]) });
  const err = await authError(fake, { user: "admin", password: source });
  assert.equal(err.code, "auth.password-rejected");
  assert.equal(source.prompts.length, 3);
});

Deno.test("authenticate() signs the RFC 4252 §7 data with an Ed25519 key after PK_OK", async () => {
  const key = ed25519Signer("/home/u/.ssh/id_ed25519");
  const seen: { alg: string; verified: boolean }[] = [];
  const fake = new FakeTransport({
    server: server(["publickey"], publickeyServer([key], success, seen)),
  });
  const result = await authenticate(fake, {
    user: "netops",
    signers: () => Promise.resolve([key]),
  });
  assert.equal(result.method, "publickey");
  assert.deepEqual(seen, [{ alg: "ssh-ed25519", verified: true }]);
  const [, query, signed] = userauthRequests(fake);
  assert.equal(query!.hasSignature, false);
  assert.equal(signed!.hasSignature, true);
  assert.deepEqual(key.signedWith, ["ssh-ed25519"]);
  const attempt = fake.tracer.events.find((e) => e.type === "attempt" && e.method === "publickey");
  assert.ok(attempt && attempt.type === "attempt");
  assert.match(
    attempt.detail,
    /^ssh-ed25519 SHA256:[A-Za-z0-9+/]{43} from \/home\/u\/\.ssh\/id_ed25519/,
  );
  assert.ok(attempt.detail.includes(fingerprintSha256(key.publicBlob)));
});

Deno.test("fingerprintSha256() matches ssh-keygen -l", () => {
  const blob = Uint8Array.from(
    atob("AAAAC3NzaC1lZDI1NTE5AAAAIMqOQYUbvCb0ZUQQuDTdsSIBb2MKoFbnkBj7HHMVtiz6"),
    (c) => c.charCodeAt(0),
  );
  assert.equal(fingerprintSha256(blob), "SHA256:QxVo9C7Cx7PbvkwY5OxYPV/iqDIl/euHzKPu1QP36OE");
});

Deno.test("authenticate() signs with rsa-sha2-256 when server-sig-algs lists only that", async () => {
  const key = rsaSigner();
  const seen: { alg: string; verified: boolean }[] = [];
  const fake = new FakeTransport({
    serverSigAlgs: ["ssh-ed25519", "rsa-sha2-256"],
    server: server(["publickey"], publickeyServer([key], success, seen)),
  });
  const result = await authenticate(fake, { user: "u", signers: () => Promise.resolve([key]) });
  assert.equal(result.success, true);
  assert.equal(userauthRequests(fake)[1]!.algorithm, "rsa-sha2-256");
  assert.deepEqual(seen, [{ alg: "rsa-sha2-256", verified: true }]);
});

Deno.test("authenticate() reports auth.no-signature-algorithm when only ssh-rsa is accepted and legacy is off", async () => {
  const key = rsaSigner();
  const fake = new FakeTransport({
    serverSigAlgs: ["ssh-rsa", "ssh-dss"],
    server: server(["publickey"], publickeyServer([key])),
  });
  const err = await authError(fake, { user: "u", signers: () => Promise.resolve([key]) });
  assert.equal(err.code, "auth.no-signature-algorithm");
  assert.equal(userauthRequests(fake).length, 1, "the key is never offered");
  assert.match(String(explainFailure(err).fix), /legacy/);
  const tried = err.details.tried as { method: string; result: string; detail: string }[];
  assert.equal(tried.at(-1)!.result, "skipped");
  assert.match(tried.at(-1)!.detail, /only ssh-rsa/);
});

Deno.test("authenticate() uses ssh-rsa (SHA-1) when legacy is on and the server lists only it", async () => {
  const key = rsaSigner();
  const seen: { alg: string; verified: boolean }[] = [];
  const fake = new FakeTransport({
    serverSigAlgs: ["ssh-rsa"],
    server: server(["publickey"], publickeyServer([key], success, seen)),
  });
  await authenticate(fake, { user: "u", legacy: true, signers: () => Promise.resolve([key]) });
  assert.deepEqual(seen, [{ alg: "ssh-rsa", verified: true }]);
});

Deno.test("chooseSignatureAlgorithm() follows server-sig-algs and falls back like OpenSSH", () => {
  const rsa = { type: "ssh-rsa", algorithms: ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] };
  const pick = (algs: string[] | null, legacy: boolean) =>
    chooseSignatureAlgorithm(rsa, algs, legacy).algorithm;
  assert.equal(pick(["rsa-sha2-256", "rsa-sha2-512"], false), "rsa-sha2-512");
  assert.equal(pick(["rsa-sha2-256"], true), "rsa-sha2-256");
  assert.equal(pick(["ssh-rsa"], false), null);
  assert.equal(pick(["ssh-ed25519"], true), "ssh-rsa");
  assert.equal(pick(null, false), "rsa-sha2-256");
  assert.equal(pick(null, true), "ssh-rsa");
  assert.match(chooseSignatureAlgorithm(rsa, null, false).reason, /no server-sig-algs/);
  const ed = { type: "ssh-ed25519", algorithms: ["ssh-ed25519"] };
  assert.equal(chooseSignatureAlgorithm(ed, ["rsa-sha2-256"], false).algorithm, "ssh-ed25519");
  const cert = {
    type: "ssh-rsa-cert-v01@openssh.com",
    algorithms: ["rsa-sha2-512-cert-v01@openssh.com", "rsa-sha2-256-cert-v01@openssh.com"],
  };
  assert.equal(
    chooseSignatureAlgorithm(cert, ["rsa-sha2-256"], false).algorithm,
    "rsa-sha2-256-cert-v01@openssh.com",
  );
});

Deno.test("authenticate() follows partial success from publickey to password", async () => {
  const key = ed25519Signer();
  const pk = publickeyServer([key], () => failure(["password"], true));
  const fake = new FakeTransport({
    server: server(["publickey"], (p, f) => {
      const req = parseUserauthRequest(p);
      if (req.method === "password") return [req.password === SECRET ? success() : failure([])];
      return pk(p, f);
    }),
  });
  const result = await authenticate(fake, {
    user: "u",
    signers: () => Promise.resolve([key]),
    password: passwordSource(SECRET),
  });
  assert.equal(result.method, "password");
  assert.deepEqual(result.attempts.map((a) => [a.method, a.result]), [
    ["none", "failure"],
    ["publickey", "partial"],
    ["password", "success"],
  ]);
  assert.ok(
    fake.tracer.events.some((e) => e.type === "failure" && e.partialSuccess),
    "partial success is traced",
  );
  assert.ok(fake.tracer.events.some((e) => e.type === "info" && /partial success/.test(e.message)));
});

Deno.test("authenticate() reports auth.partial-needs-method when the second method is missing", async () => {
  const key = ed25519Signer();
  const fake = new FakeTransport({
    server: server(["publickey"], publickeyServer([key], () => failure(["password"], true))),
  });
  const err = await authError(fake, { user: "u", signers: () => Promise.resolve([key]) });
  assert.equal(err.code, "auth.partial-needs-method");
  assert.deepEqual(err.details.methods, ["password"]);
  assert.match(String(explainFailure(err).fix), /--password-env/);
});

Deno.test("authenticate() captures the banner, wherever it arrives", async () => {
  const fake = new FakeTransport({
    server: (p) => {
      const req = parseUserauthRequest(p);
      if (req.method === "none") return [banner("Authorized use only\r\n"), failure(["password"])];
      return [banner("Second line\r\n"), success()];
    },
  });
  const result = await authenticate(fake, { user: "u", password: passwordSource(SECRET) });
  assert.equal(result.banner, "Authorized use only\r\nSecond line\r\n");
  const banners = fake.tracer.events.filter((e) => e.type === "banner");
  assert.equal(banners.length, 2);
});

Deno.test("authenticate() keeps at most 8 banners and 64 KiB of banner text, and says so", async () => {
  const big = "x".repeat(10_000) + "\r\n";
  const fake = new FakeTransport({
    server: (p) => {
      const req = parseUserauthRequest(p);
      if (req.method !== "none") return [success()];
      return [...Array.from({ length: 500 }, () => banner(big)), failure(["password"])];
    },
  });
  const result = await authenticate(fake, { user: "u", password: passwordSource(SECRET) });
  assert.equal(result.success, true);
  assert.equal(result.banner?.length, 64 * 1024);
  const events = fake.tracer.events;
  assert.equal(events.filter((e) => e.type === "banner").length, 8);
  assert.ok(
    events.some((e) => e.type === "info" && /more banner text than is kept/.test(e.message)),
  );
  fake.tracer.summarize();
  const summary = events.find((e) => e.type === "suppressed");
  assert.ok(summary?.type === "suppressed" && summary.of === "banner", JSON.stringify(summary));
  assert.equal(summary.count, 492);
  assert.equal(summary.bytes, 492 * big.length);
});

Deno.test("authenticate() answers a keyboard-interactive password prompt from the password source", async () => {
  const answers: string[][] = [];
  let responderCalls = 0;
  let round = 0;
  const fake = new FakeTransport({
    server: server(["keyboard-interactive"], (p) => {
      if (p[0] === 50) return [infoRequest("", "", [{ prompt: "Password: ", echo: false }])];
      answers.push(parseInfoResponse(p));
      round++;
      if (round === 1) return [infoRequest("", "Welcome", [])];
      return [success()];
    }),
  });
  const source = passwordSource(SECRET);
  const result = await authenticate(fake, {
    user: "admin",
    password: source,
    kbdInteractive: () => {
      responderCalls++;
      return Promise.resolve(["x"]);
    },
  });
  assert.equal(result.method, "keyboard-interactive");
  assert.deepEqual(answers, [[SECRET], []]);
  assert.equal(responderCalls, 0);
  assert.deepEqual(source.prompts, ["Password: "]);
  const infos = fake.tracer.events.filter((e) => e.type === "info").map((e) =>
    e.type === "info" ? e.message : ""
  );
  assert.ok(infos.some((m) => m.includes(`"Password: " (hidden)`)), infos.join("\n"));
  assert.ok(infos.some((m) => /zero responses/.test(m)));
});

Deno.test("authenticate() passes other keyboard-interactive prompts to the responder with echo flags", async () => {
  const requests: KbdInteractiveRequest[] = [];
  let answers: string[] = [];
  const fake = new FakeTransport({
    server: server(["keyboard-interactive"], (p) => {
      if (p[0] === 50) {
        return [infoRequest("Login", "Enter both", [
          { prompt: "Token: ", echo: true },
          { prompt: "PIN: ", echo: false },
        ])];
      }
      answers = parseInfoResponse(p);
      return [success()];
    }),
  });
  await authenticate(fake, {
    user: "u",
    kbdInteractive: (req) => {
      requests.push(req);
      return Promise.resolve(["123456", "0000"]);
    },
  });
  assert.deepEqual(requests, [{
    name: "Login",
    instruction: "Enter both",
    prompts: [{ prompt: "Token: ", echo: true }, { prompt: "PIN: ", echo: false }],
  }]);
  assert.deepEqual(answers, ["123456", "0000"]);
});

Deno.test("authenticate() in batch mode never prompts and reports auth.batch-mode-needs-prompt", async () => {
  const tty = passwordSource(SECRET, true);
  let responderCalls = 0;
  const fake = new FakeTransport({
    server: server(["keyboard-interactive", "password"], () => [failure(["password"])]),
  });
  const err = await authError(fake, {
    user: "u",
    batchMode: true,
    password: tty,
    kbdInteractive: () => {
      responderCalls++;
      return Promise.resolve([]);
    },
  });
  assert.equal(err.code, "auth.batch-mode-needs-prompt");
  assert.equal(tty.prompts.length, 0);
  assert.equal(responderCalls, 0);
  assert.equal(fake.sent.length, 1, "only none was sent");
  assert.match(String(explainFailure(err).fix), /--password-env/);
});

Deno.test("authenticate() in batch mode abandons a one-time-code prompt and still uses a stored password", async () => {
  const fake = new FakeTransport({
    server: server(["keyboard-interactive", "password"], (p) => {
      if (p[0] !== 50) return [failure(["password"])];
      const req = parseUserauthRequest(p);
      if (req.method === "keyboard-interactive") {
        return [infoRequest("", "", [{ prompt: "Verification code: ", echo: true }])];
      }
      return [req.password === SECRET ? success() : failure(["password"])];
    }),
  });
  const result = await authenticate(fake, {
    user: "u",
    batchMode: true,
    password: passwordSource(SECRET),
  });
  assert.equal(result.method, "password");
  assert.deepEqual(result.attempts.map((a) => [a.method, a.result]), [
    ["none", "failure"],
    ["keyboard-interactive", "skipped"],
    ["password", "success"],
  ]);
  assert.ok(!fake.sent.some((p) => p[0] === 61), "no INFO_RESPONSE was sent");
});

Deno.test("authenticate() reports auth.password-change-requested and does not change it", async () => {
  const fake = new FakeTransport({
    server: server(["password"], () => [passwdChangeReq("Password expired. Change it.")]),
  });
  const err = await authError(fake, { user: "u", password: passwordSource(SECRET) });
  assert.equal(err.code, "auth.password-change-requested");
  assert.match(err.message, /Password expired/);
  assert.equal(fake.sent.length, 2, "no change request follows");
});

Deno.test("authenticate() never puts the password in events or errors", async () => {
  const runs: [ServerScript, AuthOptions][] = [
    [server(["password"], () => [failure(["password"])]), {
      user: "u",
      password: passwordSource(SECRET),
    }],
    [
      server(
        ["keyboard-interactive"],
        (p) =>
          p[0] === 50
            ? [infoRequest("", "", [{ prompt: "Password:", echo: false }])]
            : [failure(["keyboard-interactive"])],
      ),
      { user: "u", password: passwordSource(SECRET) },
    ],
    [server(["password"], () => [passwdChangeReq("Expired")]), {
      user: "u",
      password: passwordSource(SECRET),
    }],
    [server(["password"], () => [success()]), { user: "u", password: passwordSource(SECRET) }],
  ];
  for (const [script, options] of runs) {
    const fake = new FakeTransport({ server: script });
    let errorText = "";
    try {
      await authenticate(fake, options);
    } catch (e) {
      assert.ok(e instanceof SshError);
      errorText = JSON.stringify({ message: e.message, details: e.details });
    }
    assert.ok(
      fake.sent.some((p) => new TextDecoder().decode(p).includes(SECRET)),
      "the password was sent",
    );
    assert.ok(!JSON.stringify(fake.tracer.events).includes(SECRET));
    assert.ok(!errorText.includes(SECRET));
  }
});

Deno.test("authenticate() reports a keyboard-interactive failure as auth.kbdint-failed", async () => {
  let prompts = 0;
  const fake = new FakeTransport({
    server: server(["keyboard-interactive"], (p) => {
      if (p[0] === 50 || prompts < 2) {
        prompts++;
        return [infoRequest("", "", [{ prompt: "Password:", echo: false }])];
      }
      return [failure(["keyboard-interactive"])];
    }),
  });
  const source = passwordSource("wrong");
  const err = await authError(fake, { user: "u", password: source });
  assert.equal(err.code, "auth.kbdint-failed");
  assert.equal(source.prompts.length, 1, "a stored password is not sent twice");
});

Deno.test("authenticate() turns 'Too many authentication failures' into auth.too-many-failures", async () => {
  const keys = [ed25519Signer("agent"), ed25519Signer("agent"), ed25519Signer("agent")];
  let offered = 0;
  const fake = new FakeTransport({
    server: server(["publickey"], () => {
      offered++;
      if (offered < 2) return [failure(["publickey"])];
      return [
        untypedError(
          "kex",
          "transport.disconnect",
          "the server disconnected: Too many authentication failures",
          { reasonCode: 2, description: "Too many authentication failures" },
        ),
      ];
    }),
  });
  const err = await authError(fake, { user: "u", signers: () => Promise.resolve(keys) });
  assert.equal(err.code, "auth.too-many-failures");
  assert.match(String(explainFailure(err).fix), /IdentitiesOnly/);
  assert.ok(err.cause instanceof SshError);
});

Deno.test("authenticate() reports auth.key-rejected and whether publickey is still accepted", async () => {
  const fake = new FakeTransport({
    server: server(["publickey"], () => [failure(["publickey"])]),
  });
  const signers = () => Promise.resolve([ed25519Signer(), ed25519Signer()]);
  const err = await authError(fake, { user: "u", signers });
  assert.equal(err.code, "auth.key-rejected");
  assert.equal(err.details.acceptsPublickey, true);
  assert.equal(userauthRequests(fake).filter((r) => r.method === "publickey").length, 2);
});

Deno.test("authenticate() offers the same key only once", async () => {
  const key = ed25519Signer();
  const fake = new FakeTransport({
    server: server(["publickey"], () => [failure(["publickey"])]),
  });
  await authError(fake, { user: "u", signers: () => Promise.resolve([key, { ...key }]) });
  assert.equal(userauthRequests(fake).filter((r) => r.method === "publickey").length, 1);
});

Deno.test("authenticate() reports auth.no-common-method with the fix for a missing key", async () => {
  const fake = new FakeTransport({ server: server(["publickey"], () => []) });
  let loaded = 0;
  const err = await authError(fake, {
    user: "u",
    password: passwordSource(SECRET),
    signers: () => {
      loaded++;
      return Promise.resolve([]);
    },
  });
  assert.equal(err.code, "auth.no-common-method");
  assert.equal(loaded, 1);
  assert.match(err.message, /offers publickey; we can do .*password/);
  assert.match(String(explainFailure(err).fix), /-i FILE/);
});

Deno.test("authenticate() follows the caller's method order and loads keys lazily", async () => {
  let loaded = 0;
  const fake = new FakeTransport({
    server: server(["publickey", "password"], (p) => [
      parseUserauthRequest(p).method === "password" ? success() : failure(["publickey"]),
    ]),
  });
  const result = await authenticate(fake, {
    user: "u",
    methods: ["password", "publickey"],
    password: passwordSource(SECRET),
    signers: () => {
      loaded++;
      return Promise.resolve([]);
    },
  });
  assert.equal(result.method, "password");
  assert.equal(loaded, 0);
});

Deno.test("authenticate() rejects an unexpected message with auth.protocol", async () => {
  const fake = new FakeTransport({ server: () => [new Uint8Array([94, 0, 0, 0, 0])] });
  const err = await authError(fake, { user: "u" });
  assert.equal(err.code, "auth.protocol");
  assert.match(err.message, /CHANNEL_DATA/);
});

Deno.test("authenticate() rejects a PK_OK for a different key with auth.protocol", async () => {
  const key = ed25519Signer();
  const other = ed25519Signer();
  const fake = new FakeTransport({
    server: server(["publickey"], () => [pkOk("ssh-ed25519", other.publicBlob)]),
  });
  const err = await authError(fake, { user: "u", signers: () => Promise.resolve([key]) });
  assert.equal(err.code, "auth.protocol");
  assert.deepEqual(key.signedWith, [], "nothing was signed");
});

Deno.test("authenticate() accepts a PK_OK naming ssh-rsa for a key offered as rsa-sha2-256 (a quirk)", async () => {
  const key = rsaSigner();
  const seen: { alg: string; verified: boolean }[] = [];
  const inner = publickeyServer([key], success, seen);
  const fake = new FakeTransport({
    serverSigAlgs: ["rsa-sha2-256"],
    server: server(["publickey"], (payload, f) => {
      const req = parseUserauthRequest(payload);
      if (req.method === "publickey" && !req.hasSignature) return [pkOk("ssh-rsa", req.blob!)];
      return inner(payload, f);
    }),
  });
  const result = await authenticate(fake, { user: "u", signers: () => Promise.resolve([key]) });
  assert.equal(result.success, true);
  assert.deepEqual(seen, [{ alg: "rsa-sha2-256", verified: true }], "signed as offered");
  const quirk = fake.tracer.events.find((e) => e.type === "quirk");
  assert.equal(quirk?.type === "quirk" && quirk.id, "pk-ok-key-type");
});

Deno.test("authenticate() still rejects a PK_OK naming another key type with auth.protocol", async () => {
  const key = rsaSigner();
  const fake = new FakeTransport({
    serverSigAlgs: ["rsa-sha2-256"],
    server: server(["publickey"], (payload) => {
      const req = parseUserauthRequest(payload);
      return [pkOk("ssh-ed25519", req.blob!)];
    }),
  });
  const err = await authError(fake, { user: "u", signers: () => Promise.resolve([key]) });
  assert.equal(err.code, "auth.protocol");
});

Deno.test("authenticate() reports a connection closed mid-way as auth.connection-closed", async () => {
  const fake = new FakeTransport({ server: server(["password"], () => [null]) });
  const err = await authError(fake, { user: "u", password: passwordSource(SECRET) });
  assert.equal(err.code, "auth.connection-closed");
});
