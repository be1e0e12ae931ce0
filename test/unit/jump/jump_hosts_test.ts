/** The CLI's jump host list (lib/cli/jump.ts): each hop's own Host block applied, as ssh -J. */

import assert from "node:assert/strict";
import { jumpHosts } from "../../../lib/cli/jump.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

const USER = "/home/me/.ssh/config";

Deno.test("jumpHosts() applies each hop's Host block: HostName, Port, User", () => {
  const io = memoryIo({
    [USER]: "Host bastion\n  HostName 10.0.0.1\n  Port 2222\n  User ops\n" +
      "Host core\n  HostName core.mgmt\n",
  });
  assert.deepEqual(jumpHosts("bastion,admin@core:22", io), [
    { host: "10.0.0.1", port: 2222, user: "ops" },
    { host: "core.mgmt", port: 22, user: "admin" },
  ]);
});

Deno.test("jumpHosts(): what the entry says wins over its Host block; none is no hop", () => {
  const io = memoryIo({ [USER]: "Host bastion\n  Port 2222\n  User ops\n" });
  assert.deepEqual(jumpHosts("root@bastion:22", io), [
    { host: "bastion", port: 22, user: "root" },
  ]);
  assert.deepEqual(jumpHosts("none", io), []);
  assert.deepEqual(jumpHosts(undefined, io), []);
});

Deno.test("jumpHosts(): a bad configuration is a usage error naming the hop and file:line", () => {
  const io = memoryIo({ [USER]: "Host bastion\n  Port many\n" });
  assert.throws(() => jumpHosts("bastion", io), (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.code, "usage.invalid");
    assert.match(e.message, /jump host bastion: .*config:2/);
    return true;
  });
});
