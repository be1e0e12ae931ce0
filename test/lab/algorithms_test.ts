/**
 * Every registered algorithm (kex, host key, cipher, MAC, compression) between the real client
 * and the lab server: both halves of each are sshtrace's own, so this proves them end to end
 * (mlkem768x25519-sha256 included). Legacy entries are reached with `legacy: true`.
 */

import assert from "node:assert/strict";
import { allNames, type ListCategory, REGISTRIES } from "../../lib/algorithms/registry.ts";
import { type LabServer, startLabServer } from "../../lib/lab/mod.ts";
import type { Category } from "../../lib/types.ts";
import { connectLab, decode, everyAlgorithm, sharedHostKeys } from "../helpers/lab.ts";

/** A lab server that offers every registered algorithm. */
async function everything(): Promise<LabServer> {
  return await startLabServer({
    hostKeys: await sharedHostKeys(),
    algorithms: everyAlgorithm(),
    config: { serverSigAlgs: allNames("hostKey") },
  });
}

const CHECKED: Record<ListCategory, Category[]> = {
  kex: ["kex"],
  hostKey: ["hostKey"],
  cipher: ["cipherC2S", "cipherS2C"],
  mac: ["macC2S", "macS2C"],
  compression: ["compressionC2S", "compressionS2C"],
};

for (const category of Object.keys(REGISTRIES) as ListCategory[]) {
  for (const alg of REGISTRIES[category]) {
    const legacy = alg.status === "legacy";
    Deno.test(
      `${category} ${alg.name} works between the client and the lab server` +
        (legacy ? " (legacy)" : ""),
      async () => {
        const edits: Partial<Record<ListCategory, string[]>> = { [category]: [alg.name] };
        // A MAC is only used with a cipher that is not AEAD.
        if (category === "mac") edits.cipher = ["aes128-ctr"];
        const lab = await everything();
        const client = await connectLab(lab, { algorithms: edits, legacy });
        try {
          const decisions = client.transport.negotiated!.decisions;
          for (const c of CHECKED[category]) {
            assert.equal(decisions.find((d) => d.category === c)?.chosen, alg.name, c);
          }
          const text = `ok ${alg.name}`;
          const { stdout, exit } = await client.exec(`echo '${text}'`);
          assert.equal(decode(stdout), `${text}\n`);
          assert.equal(exit.status, 0);
        } finally {
          await client.close();
          await lab.stop();
        }
        assert.deepEqual(lab.errors, []);
      },
    );
  }
}
