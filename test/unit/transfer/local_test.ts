import assert from "node:assert/strict";
import { blockWriter } from "../../../lib/transfer/local.ts";

Deno.test("blockWriter() gathers small writes into blocks and hands large ones on as they are, in order", async () => {
  const writes: Uint8Array[] = [];
  const blocks = blockWriter("f", {
    write: (bytes) => {
      writes.push(bytes.slice());
      return Promise.resolve();
    },
  }, 16);
  const bytes = (n: number, v: number) => new Uint8Array(n).fill(v);
  await blocks.write(bytes(5, 1));
  await blocks.write(bytes(5, 2));
  const large = bytes(8, 3);
  await blocks.write(large); // half a block: flushes what is gathered, then goes as it is
  await blocks.write(bytes(7, 4));
  await blocks.write(bytes(7, 5));
  await blocks.write(bytes(7, 6)); // would overflow the block: the first two go first
  await blocks.flush();
  assert.deepEqual(writes.map((w) => w.length), [10, 8, 14, 7]);
  assert.deepEqual(
    writes.flatMap((w) => [...w]),
    [
      1,
      1,
      1,
      1,
      1,
      2,
      2,
      2,
      2,
      2,
      3,
      3,
      3,
      3,
      3,
      3,
      3,
      3,
      ...Array(7).fill(4),
      ...Array(7).fill(5),
      ...Array(7).fill(6),
    ],
  );
});
