/**
 * The `get` and `put` command lines: arguments, `-P` for the port and `-p` to preserve (as scp
 * has them), the transfer switches and their defaults, the remote-file syntax, and the path
 * rules (temporary names, names a server may send).
 */

import assert from "node:assert/strict";
import { parseCommandLine } from "../../../lib/cli/args.ts";
import { parseRemoteSpec } from "../../../lib/cli/transfer.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import {
  basename,
  checkServerName,
  dirname,
  localNameFor,
  partName,
  unsafeReason,
} from "../../../lib/transfer/paths.ts";
import { progress } from "../../../lib/cli/transfer.ts";
import { settingsFor } from "../../../lib/cli/settings.ts";
import { memoryIo } from "../../helpers/sshconfig_io.ts";

Deno.test("get HOST:REMOTE [LOCAL]: -P is the port, -p preserves, the switches and defaults", () => {
  const r = parseCommandLine([
    "get",
    "-P",
    "2222",
    "-p",
    "-r",
    "--verify",
    "--resume",
    "--fsync",
    "--protocol",
    "scp",
    "-i",
    "k",
    "admin@sw1:flash:/startup.cfg",
    "backups/",
  ]);
  assert.ok(r.name === "get");
  assert.equal(r.remote, "admin@sw1:flash:/startup.cfg");
  assert.equal(r.local, "backups/");
  assert.equal(r.flags.port, "2222");
  assert.equal(r.flags.preserve, true);
  assert.equal(r.flags.recursive, true);
  assert.equal(r.flags.verify, true);
  assert.equal(r.flags.resume, true);
  assert.equal(r.flags.fsync, true);
  assert.equal(r.flags.protocol, "scp");
  assert.deepEqual(r.flags.identity, ["k"]);
  assert.equal(
    settingsFor({ target: "h", flags: r.flags, order: r.order }, memoryIo({})).settings.port,
    2222,
  );
});

Deno.test("get without LOCAL copies into the current directory; protocol defaults to auto", () => {
  const r = parseCommandLine(["get", "h:f"]);
  assert.ok(r.name === "get");
  assert.equal(r.local, ".");
  assert.equal(r.flags.protocol, "auto");
  assert.equal(r.flags.preserve, undefined);
  assert.equal(r.flags.fsync, undefined); // no flush to disk unless asked, as sftp and scp
});

Deno.test("put LOCAL HOST:REMOTE needs both arguments", () => {
  const r = parseCommandLine(["put", "fw.bin", "h:/tmp/"]);
  assert.ok(r.name === "put");
  assert.equal(r.local, "fw.bin");
  assert.equal(r.remote, "h:/tmp/");
  assert.throws(() => parseCommandLine(["put", "fw.bin"]), /missing required argument/);
});

Deno.test("parseRemoteSpec() splits at the first colon after the host, IPv6 in brackets", () => {
  assert.deepEqual(parseRemoteSpec("admin@sw1:flash:/a.cfg"), {
    target: "admin@sw1",
    path: "flash:/a.cfg",
  });
  assert.deepEqual(parseRemoteSpec("[::1]:/etc/hosts"), { target: "[::1]", path: "/etc/hosts" });
  assert.deepEqual(parseRemoteSpec("u@[fe80::1]:x"), { target: "u@[fe80::1]", path: "x" });
  assert.deepEqual(parseRemoteSpec("h:"), { target: "h", path: "" });
  for (const bad of ["localfile", ":x", "[::1]/x"]) {
    assert.throws(() => parseRemoteSpec(bad), (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.code, "usage.invalid");
      return true;
    });
  }
});

Deno.test("partName() keeps the copy in the same directory under a hidden temporary name", () => {
  assert.equal(partName("/a/b/file.cfg"), "/a/b/.file.cfg.sshtrace-part");
  assert.equal(partName("file.cfg"), ".file.cfg.sshtrace-part");
  assert.equal(basename("/a/b/"), "b");
  assert.equal(dirname("/b"), "/");
  assert.equal(dirname("b"), ".");
  assert.equal(localNameFor("flash:startup.cfg"), "startup.cfg");
  assert.equal(localNameFor("flash:/cfg/startup.cfg"), "startup.cfg");
  assert.equal(localNameFor("/home/a/x.txt"), "x.txt");
});

Deno.test("checkServerName() accepts one plain component and refuses everything else", () => {
  for (const ok of ["startup.cfg", "..hidden", "a..b", "名字.txt", " space"]) {
    assert.equal(unsafeReason(ok), null, ok);
    assert.equal(checkServerName(ok, "/d"), ok);
  }
  for (const bad of ["", ".", "..", "../x", "/etc/passwd", "a/b", "a\\b", "a\0b"]) {
    assert.throws(() => checkServerName(bad, "/d"), (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.code, "transfer.unsafe-name");
      assert.equal(e.exitCode, 17);
      return true;
    }, JSON.stringify(bad));
  }
});

Deno.test("sshtrace scp … and sshtrace sftp … point at get and put instead of logging in", () => {
  for (const word of ["scp", "sftp"]) {
    assert.throws(() => parseCommandLine([word, "a", "h:b"]), (e: unknown) => {
      assert.ok(e instanceof SshError);
      assert.equal(e.code, "usage.invalid");
      assert.match(e.message, new RegExp(`sshtrace get .*--protocol ${word}`));
      return true;
    });
  }
});

Deno.test("progress lines show a server's file name without its terminal controls", () => {
  let out = "";
  const report = progress(false, (t) => out += t);
  report(10, 100, "conf/\x1b]52;c;cHduZWQ=\x07evil\x1b[2J.cfg");
  assert.ok(out.length > 0);
  for (const control of ["\x1b", "\x07"]) assert.ok(!out.includes(control), JSON.stringify(out));
});
