import assert from "node:assert/strict";
import { parseInventory, readInventory, splitCsvLine } from "../../../lib/check/inventory.ts";
import { SshError } from "../../../lib/errors/mod.ts";
import { tempDir } from "../../helpers/tools.ts";

function usageFailure(fn: () => unknown, pattern: RegExp): SshError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SshError, `expected SshError, got ${e}`);
    assert.equal(e.stage, "usage");
    assert.equal(e.exitCode, 2);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail("expected a usage error");
}

Deno.test("parseInventory() reads plain [user@]host[:port] lines with comments and blank lines", () => {
  const text = [
    "# core switches",
    "",
    "admin@10.0.0.1",
    "  10.0.0.2:2222   # the lab one",
    "sw3.example.net",
    "[2001:db8::1]:830",
    "ops@[fe80::1]",
    "   ",
  ].join("\n");
  const entries = parseInventory(text, "hosts.txt");
  assert.deepEqual(
    entries.map((e) => [e.line, e.user, e.host, e.port]),
    [
      [3, "admin", "10.0.0.1", null],
      [4, null, "10.0.0.2", 2222],
      [5, null, "sw3.example.net", null],
      [6, null, "2001:db8::1", 830],
      [7, "ops", "fe80::1", null],
    ],
  );
  assert.equal(entries[1]!.source, "hosts.txt:4");
  assert.equal(entries[1]!.target, "10.0.0.2:2222");
  assert.equal(entries[0]!.device, null);
  assert.equal(entries[0]!.legacy, null);
  assert.deepEqual(entries[0]!.extra, {});
});

Deno.test("parseInventory() accepts CRLF line ends and a byte order mark", () => {
  const entries = parseInventory("\uFEFFa.example\r\nb.example:23\r\n", "win.txt");
  assert.deepEqual(entries.map((e) => [e.host, e.port]), [["a.example", null], ["b.example", 23]]);
});

Deno.test("parseInventory() detects CSV by its header and keeps extra columns", () => {
  const text = [
    "# exported from the CMDB",
    "Host,Port,user,device,legacy,site,notes",
    "10.1.0.1,22,admin,ios,yes,AMS,",
    '10.1.0.2,,,nxos,no,FRA,"rack 4, row ""B"""',
    "",
    "10.1.0.3:2200,,,,,LON,spare",
    "root@10.1.0.4,830,netops,,,PAR,",
  ].join("\n");
  const entries = parseInventory(text, "fleet.csv");
  assert.equal(entries.length, 4);
  const [a, b, c, d] = entries;
  assert.deepEqual(
    [a!.host, a!.port, a!.user, a!.device, a!.legacy, a!.line],
    ["10.1.0.1", 22, "admin", "ios", true, 3],
  );
  assert.deepEqual(a!.extra, { site: "AMS", notes: "" });
  assert.equal(a!.target, "admin@10.1.0.1:22");
  assert.deepEqual([b!.port, b!.user, b!.device, b!.legacy], [null, null, "nxos", false]);
  assert.deepEqual(b!.extra, { site: "FRA", notes: 'rack 4, row "B"' });
  assert.deepEqual([c!.host, c!.port, c!.legacy, c!.device], ["10.1.0.3", 2200, null, null]);
  // The port and user columns win over the host column's own.
  assert.deepEqual([d!.host, d!.port, d!.user, d!.source], [
    "10.1.0.4",
    830,
    "netops",
    "fleet.csv:7",
  ]);
});

Deno.test("parseInventory() treats a plain line with a comma-free first entry as text", () => {
  const entries = parseInventory("host\nother\n", "h.txt");
  assert.deepEqual(entries.map((e) => e.host), ["host", "other"]);
});

Deno.test("parseInventory() names file and line of a bad text line", () => {
  usageFailure(
    () => parseInventory("ok.example\n\nbad host name\n", "hosts.txt"),
    /^hosts\.txt:3: /,
  );
  usageFailure(() => parseInventory("a.example\nb.example:99999\n", "h"), /^h:2: .*65535/);
  usageFailure(() => parseInventory("a.example\n@b.example\n", "h"), /^h:2: empty user name/);
  usageFailure(() => parseInventory("a.example\nhost/path\n", "h"), /^h:2: invalid host/);
});

Deno.test("parseInventory() names file and line of a bad CSV line", () => {
  usageFailure(
    () => parseInventory("host,port\na,22\nb,abc\n", "f.csv"),
    /^f\.csv:3: invalid port "abc"/,
  );
  usageFailure(
    () => parseInventory("host,port\n,22\n", "f.csv"),
    /^f\.csv:2: the host column is empty/,
  );
  usageFailure(
    () => parseInventory("host,legacy\na,maybe\n", "f.csv"),
    /^f\.csv:2: invalid legacy/,
  );
  usageFailure(
    () => parseInventory("host,port\na,22,x\n", "f.csv"),
    /^f\.csv:2: 3 fields but the header has 2/,
  );
  usageFailure(() => parseInventory('host,notes\na,"open\n', "f.csv"), /^f\.csv:2: unterminated/);
  usageFailure(() => parseInventory("host,host\na,b\n", "f.csv"), /^f\.csv:1: .*twice/);
});

Deno.test("parseInventory() refuses an inventory without hosts", () => {
  usageFailure(() => parseInventory("# nothing\n\n", "empty.txt"), /^empty\.txt: .*no hosts/);
  usageFailure(() => parseInventory("host,port\n", "e.csv"), /^e\.csv: .*no hosts/);
});

Deno.test("splitCsvLine() handles quotes, escaped quotes and empty fields", () => {
  assert.deepEqual(splitCsvLine('a,"b,c",,"d""e"', "x"), ["a", "b,c", "", 'd"e']);
  assert.deepEqual(splitCsvLine(" a , b ", "x"), ["a", "b"]);
  assert.deepEqual(splitCsvLine("", "x"), [""]);
});

Deno.test("readInventory() reads a file and reports an unreadable one as a usage error", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/hosts.txt`;
  await Deno.writeTextFile(path, "a.example\nb.example:2022\n");
  const entries = await readInventory(path);
  assert.deepEqual(entries.map((e) => e.source), [`${path}:1`, `${path}:2`]);
  await assert.rejects(
    () => readInventory(`${dir.path}/missing.txt`),
    (e: unknown) =>
      e instanceof SshError && e.stage === "usage" &&
      /cannot read the inventory/.test(e.message),
  );
});

Deno.test("parseInventory() reads per-host credential references and commands from CSV", () => {
  const [sw, srv] = parseInventory(
    [
      "host,user,device,password_env,enable_secret_file,key,commands",
      "10.0.0.1,admin,comware,SW1_PW,/etc/sw1.enable,,display version; display clock",
      "10.0.0.2,ops,linux,,,/home/ops/.ssh/id_ed25519,",
    ].join("\n"),
    "fleet.csv",
  );
  assert.deepEqual(sw!.credentials, {
    passwordEnv: "SW1_PW",
    passwordFile: null,
    enableSecretEnv: null,
    enableSecretFile: "/etc/sw1.enable",
    key: null,
  });
  assert.deepEqual(sw!.commands, ["display version", "display clock"]);
  assert.deepEqual(sw!.extra, {});
  assert.equal(srv!.credentials.key, "/home/ops/.ssh/id_ed25519");
  assert.equal(srv!.commands, null);
});

Deno.test("parseInventory() refuses a column that would hold a secret, and a bad variable name", () => {
  for (const column of ["password", "secret", "enable_secret"]) {
    assert.throws(
      () => parseInventory(`host,${column}\n10.0.0.1,hunter2\n`, "fleet.csv"),
      (e: unknown) => {
        assert.ok(e instanceof SshError);
        assert.equal(e.stage, "usage");
        assert.match(
          e.message,
          new RegExp(`fleet\\.csv:1: the column "${column}" would hold a secret`),
        );
        assert.ok(!e.message.includes("hunter2"));
        return true;
      },
    );
  }
  assert.throws(
    () => parseInventory("host,password_env\n10.0.0.1,not a name\n", "fleet.csv"),
    /fleet\.csv:2: password_env: "not a name" is not an environment variable name/,
  );
});

Deno.test("parseInventory() reads a row's enable_level (0-15) and its jump host", () => {
  const [a, b] = parseInventory(
    [
      "host,device,enable_level,jump",
      "10.0.0.1,huawei,15,ops@bastion:2222",
      "10.0.0.2,cisco,,none",
    ].join("\n"),
    "fleet.csv",
  );
  assert.equal(a!.enableLevel, 15);
  assert.equal(a!.jump, "ops@bastion:2222");
  assert.equal(b!.enableLevel, null);
  assert.equal(b!.jump, "none");
  for (const bad of ["16", "three", "-1"]) {
    usageFailure(
      () => parseInventory(`host,enable_level\n10.0.0.1,${bad}\n`, "fleet.csv"),
      new RegExp(`fleet\\.csv:2: invalid enable_level "${bad}": expected a privilege level 0-15`),
    );
  }
});
