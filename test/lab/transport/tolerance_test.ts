/**
 * What the client tolerates from independent server implementations, as OpenSSH does: each case
 * against the lab server's fault profile that reproduces it, with the quirk traced.
 */

import assert from "node:assert/strict";
import { type LabServer, startLabServer } from "../../../lib/lab/mod.ts";
import { connectLab, decode, sharedHostKeys } from "../../helpers/lab.ts";

async function withLab<T>(
  profile: string,
  fn: (lab: LabServer) => Promise<T>,
) {
  const lab = await startLabServer({ profile, hostKeys: await sharedHostKeys() });
  try {
    return await fn(lab);
  } finally {
    await lab.stop();
  }
}

Deno.test("a version line with UTF-8 in its comment is hashed as received and shown decoded", async () => {
  await withLab("version-utf8-comment", async (lab) => {
    const client = await connectLab(lab);
    try {
      const r = await client.exec("echo hi");
      assert.equal(decode(r.stdout), "hi\n");
      const received = client.tracer.events.find((e) => e.type === "received");
      assert.equal(
        received?.type === "received" && received.line,
        "SSH-2.0-OpenSSH_9.2 Débian-交换机 ✓",
      );
    } finally {
      await client.close();
    }
  });
});

Deno.test("a KEXINIT with empty names (libssh's trailing comma) is tolerated and traced as a quirk", async () => {
  await withLab("kexinit-empty-names", async (lab) => {
    const client = await connectLab(lab);
    try {
      const r = await client.exec("echo hi");
      assert.equal(decode(r.stdout), "hi\n");
      const quirk = client.tracer.events.find((e) => e.type === "quirk");
      assert.ok(quirk && quirk.type === "quirk", "a quirk event");
      assert.equal(quirk.id, "kexinit-empty-names");
      assert.match(quirk.description, /kex, cipherC2S, cipherS2C, macC2S/);
    } finally {
      await client.close();
    }
  });
});

Deno.test("the rekey limit counts received bytes too: a download rekeys although the client sends nothing", async () => {
  await withLab("modern", async (lab) => {
    // A window larger than the download: no WINDOW_ADJUST, so the client sends no packet at all
    // while 1.9 MB arrive; only the received bytes can trigger the rekey.
    const client = await connectLab(lab, {
      rekeyLimitBytes: 1024 * 1024,
      windowSize: 16 * 1024 * 1024,
    });
    try {
      const r = await client.exec("head -c 1900000 /dev/zero");
      assert.equal(r.stdout.length, 1900000);
      const rekeys = client.tracer.events.filter((e) =>
        e.type === "rekey" && e.initiator === "client"
      );
      assert.ok(rekeys.length >= 1, `${rekeys.length} client rekeys`);
      // ... during the download, not at the close (a send-side check would only fire there).
      const exitAt = client.tracer.events.findIndex((e) =>
        e.type === "info" && /exit status/.test(e.message)
      );
      assert.ok(exitAt > 0, "the exit status was traced");
      assert.ok(client.tracer.events.indexOf(rekeys[0]!) < exitAt, "rekey before the exit status");
    } finally {
      await client.close();
    }
  });
});
