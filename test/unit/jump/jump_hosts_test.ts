/** The CLI's jump host list (lib/cli/jump.ts): each hop's own configuration, as ssh -J. */

import assert from "node:assert/strict";
import { jumpHosts } from "../../../lib/cli/jump.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

const USER = "/home/me/.ssh/config";

const where = (hops: ReturnType<typeof jumpHosts>) =>
  hops.map(({ host, port, user }) => ({ host, port, user }));

Deno.test("jumpHosts() applies each hop's Host block: HostName, Port, User", () => {
  const io = memoryIo({
    [USER]: "Host bastion\n  HostName 10.0.0.1\n  Port 2222\n  User ops\n" +
      "Host core\n  HostName core.mgmt\n",
  });
  assert.deepEqual(where(jumpHosts("bastion,admin@core:22", io)), [
    { host: "10.0.0.1", port: 2222, user: "ops" },
    { host: "core.mgmt", port: 22, user: "admin" },
  ]);
});

Deno.test("jumpHosts(): what the entry says wins over its Host block; none is no hop", () => {
  const io = memoryIo({ [USER]: "Host bastion\n  Port 2222\n  User ops\n" });
  const [hop] = jumpHosts("root@bastion:22", io);
  assert.deepEqual(where([hop!]), [{ host: "bastion", port: 22, user: "root" }]);
  // The entry's parts are the hop's command line (`ssh -l root -p 22 bastion`).
  const user = hop!.config.values.get("user")!;
  assert.deepEqual(user.origin, { kind: "flag", flag: "-J" });
  assert.deepEqual(jumpHosts("none", io), []);
  assert.deepEqual(jumpHosts(undefined, io), []);
});

Deno.test("jumpHosts(): a hop's own IdentityFile, known_hosts, algorithms, ConnectTimeout", () => {
  const io = memoryIo({
    [USER]: "Host bastion\n  IdentityFile ~/.ssh/bastion_key\n" +
      "  UserKnownHostsFile ~/.ssh/bastion_hosts\n  KexAlgorithms curve25519-sha256\n" +
      "  ConnectTimeout 7\n  StrictHostKeyChecking accept-new\n" +
      "Host *\n  User everyone\n",
  });
  const [hop] = jumpHosts("bastion", io);
  const s = hop!.settings;
  assert.deepEqual(s.identityFiles, ["/home/me/.ssh/bastion_key"]);
  assert.equal(s.userKnownHostsFile, "/home/me/.ssh/bastion_hosts");
  assert.deepEqual(s.algorithms.kex, ["curve25519-sha256"]);
  assert.equal(s.connectTimeoutS, 7);
  assert.equal(s.strictHostKeyChecking, "accept-new");
  assert.equal(hop!.user, "everyone");
  // The blocks that matched, with file:line, for the hop's config stage.
  const matched = hop!.config.trace.blocks.filter((b) => b.matched);
  assert.deepEqual(matched.map((b) => `${b.file}:${b.line}`), [`${USER}:1`, `${USER}:7`]);
});

Deno.test("jumpHosts(): the first hop follows its own ProxyJump; a later hop's is not used", () => {
  // ssh -J a,b t runs `ssh -J a -W t b`: b's ProxyJump is overridden by -J a; a's applies.
  const io = memoryIo({
    [USER]: "Host a\n  ProxyJump gw\n" +
      "Host b\n  ProxyJump elsewhere\n  ProxyCommand nc %h %p\n" +
      "Host gw\n  ProxyCommand connect-proxy %h %p\n  User gwuser\n",
  });
  const hops = jumpHosts("a,b", io);
  assert.deepEqual(hops.map((h) => h.host), ["gw", "a", "b"]);
  assert.equal(hops[0]!.settings.proxyCommand, "connect-proxy %h %p");
  assert.equal(hops[0]!.settings.proxyJump, undefined);
  assert.equal(hops[0]!.user, "gwuser");
  assert.equal(hops[1]!.settings.proxyJump, "gw");
  assert.equal(hops[2]!.settings.proxyJump, "a");
  assert.deepEqual(hops[2]!.config.values.get("proxyjump")!.origin, { kind: "flag", flag: "-J" });
});

Deno.test("jumpHosts(): -F is the hops' configuration too (as ssh -J passes it)", () => {
  const io = memoryIo({
    [USER]: "Host bastion\n  Port 1111\n",
    "/etc/other.conf": "Host bastion\n  Port 2222\n",
  });
  assert.equal(jumpHosts("bastion", io, { configFile: "/etc/other.conf" })[0]!.port, 2222);
  assert.equal(jumpHosts("bastion", io)[0]!.port, 1111);
});

Deno.test("jumpHosts(): a ProxyJump loop through Host blocks is a usage error", () => {
  const io = memoryIo({ [USER]: "Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n" });
  assert.throws(() => jumpHosts("a", io), (e: unknown) => {
    assert.ok(e instanceof SshError);
    assert.equal(e.code, "usage.invalid");
    assert.match(e.message, /a loop/);
    return true;
  });
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
