/** explainFailure() of a key exchange that stalls the way a path MTU black hole makes it. */

import assert from "node:assert/strict";
import { explainFailure } from "../../../lib/diagnose/explain.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import type { TraceEvent } from "../../../lib/trace.ts";
import type { AlgorithmLists, Decision } from "../../../lib/types.ts";

const lists = (kex: string[]): AlgorithmLists => ({
  kex,
  hostKey: ["ssh-ed25519"],
  cipherC2S: ["aes128-ctr"],
  cipherS2C: ["aes128-ctr"],
  macC2S: ["hmac-sha2-256"],
  macS2C: ["hmac-sha2-256"],
  compressionC2S: ["none"],
  compressionS2C: ["none"],
});
const timeout = () => new SshError("kex", "kex.timeout", "no answer", { timeoutMs: 10_000 });
const sent = { t: 0, stage: "kex", type: "kexinit-sent", lists: lists([]), cookie: "" };

Deno.test("a post-quantum reply that never comes suggests a smaller exchange, naming the MTU", () => {
  const kex = ["mlkem768x25519-sha256", "curve25519-sha256"];
  const decision: Decision = {
    category: "kex",
    ours: kex,
    theirs: kex,
    chosen: "mlkem768x25519-sha256",
    rule: "",
    firstChoiceMatch: true,
  };
  const events = [
    sent,
    {
      t: 1,
      stage: "kex",
      type: "kexinit-received",
      lists: lists(kex),
      firstKexPacketFollows: false,
    },
    { t: 2, stage: "kex", type: "negotiated", decisions: [decision], strict: true, extInfo: true },
  ] as TraceEvent[];
  const x = explainFailure(timeout(), events);
  assert.match(x.title, /mlkem768x25519-sha256 reply never arrived/);
  assert.match(x.fix ?? "", /--kex \^curve25519-sha256/);
});
