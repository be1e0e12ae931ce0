/**
 * Connect and version failures reproduced without an SSH server: the resolver, closed and
 * black-holed ports (a python3 listener), a proxy that resets, and byte-level TCP servers.
 */
import assert from "node:assert/strict";
import { probe } from "../../../lib/client.ts";
import { Tracer } from "../../../lib/trace.ts";
import { EXIT_CODES } from "../../../lib/types.ts";
import { freePort } from "../../helpers/tools.ts";
import {
  cli,
  type CliResult,
  cliSeen,
  explained,
  re,
  reproductionTable,
} from "../../helpers/reproduce.ts";
import { drain, encoder, RawServer, sendThenDrain, startNetem } from "../../helpers/raw_servers.ts";

/** The table: one row per step; `reproduces` lists the catalogue codes each row proves. */
export const NO_SERVER = reproductionTable({
  name: "without an SSH server: connect and version failures are reproduced through the CLI",
  setup() {
    const raw = new RawServer();
    const closedPort = freePort();
    const target = `127.0.0.1:${raw.port}`;
    const probeJson = (extra: string[] = [], to = target) =>
      cli(["probe", "--json", "--timeout", "1", ...extra, to]);
    return Promise.resolve({
      ctx: { raw, closedPort, target, probeJson },
      teardown: () => raw.stop(),
    });
  },
  rows: [
    {
      name: "a bad option or algorithm list is usage.invalid naming what is wrong",
      reproduces: [{
        code: "usage.invalid",
        by:
          'CLI: probe -o Frobnicate=yes (exit 2); library: probe({algorithms: {kex: ["+no-such-kex"]}})',
      }],
      async run({ raw, target }, expect) {
        // The CLI prints usage errors on stderr with the fix; with --json also as a report.
        const r = await cli(["probe", "--json", "-o", "Frobnicate=yes", target]);
        assert.equal(r.code, EXIT_CODES.usage, r.stderr);
        const usageReport = JSON.parse(r.stdout);
        assert.equal(usageReport.failedStage, "usage");
        assert.equal(usageReport.error.code, "usage.invalid");
        assert.equal(usageReport.exitCode, 2);
        assert.match(r.stderr, /unsupported option -o Frobnicate \(usage\)/);
        assert.match(r.stderr, /try: supported: .*StrictHostKeyChecking.*ServerAliveInterval/);
        // The library names the code: an algorithm list that names no algorithm.
        const tracer = new Tracer();
        const { error } = await probe({
          host: "127.0.0.1",
          port: raw.port,
          timeoutMs: 1000,
          algorithms: { kex: ["+no-such-kex"] },
          tracer,
        });
        assert.ok(error);
        expect(explained(error, tracer), {
          code: "usage.invalid",
          stage: "usage",
          fix: /sshtrace --help/,
          says: /no-such-kex/,
        });
      },
    },
    {
      name: "a malformed ssh_config is config.invalid naming file:line, and nothing is sent",
      reproduces: [{ code: "config.invalid", by: "CLI: probe -F FILE with a bad Port line" }],
      async run({ raw, target }, expect) {
        let connections = 0;
        raw.behaviour = () => Promise.resolve(void connections++);
        const file = await Deno.makeTempFile({ suffix: ".ssh_config" });
        try {
          await Deno.writeTextFile(file, "Host *\n  User bob\n  Port twenty-two\n");
          const r = await cli(["probe", "--json", "-F", file, target]);
          assert.equal(r.code, EXIT_CODES.config, r.stderr);
          assert.match(r.stderr, new RegExp(`${re(file)}:3: Port`));
          expect(cliSeen(r), {
            code: "config.invalid",
            stage: "config",
            fix: new RegExp(`correct ${re(file)} line 3`),
            opensshFix: /ssh -G/,
          });
          assert.equal(connections, 0, "nothing may be sent for a bad configuration");
        } finally {
          await Deno.remove(file);
        }
      },
    },
    {
      name: "a keyword sshtrace does not do is config.refused naming where it was set",
      reproduces: [{ code: "config.refused", by: "CLI: probe -F FILE with ForwardX11 yes" }],
      async run({ raw, target }, expect) {
        let connections = 0;
        raw.behaviour = () => Promise.resolve(void connections++);
        const file = await Deno.makeTempFile({ suffix: ".ssh_config" });
        try {
          await Deno.writeTextFile(file, "Host 127.0.0.1\n  ForwardX11 yes\n");
          const r = await cli(["probe", "--json", "-F", file, target]);
          assert.equal(r.code, EXIT_CODES.config, r.stderr);
          expect(cliSeen(r), {
            code: "config.refused",
            stage: "config",
            fix: new RegExp(`"ForwardX11" at ${re(file)}:2`),
            opensshFix: null,
          });
          assert.equal(connections, 0, "nothing may be sent for a refused keyword");
        } finally {
          await Deno.remove(file);
        }
      },
    },
    {
      name: "the reserved name nonexistent.invalid is connect.dns",
      reproduces: [{ code: "connect.dns", by: "CLI: probe nonexistent.invalid" }],
      async run({ probeJson }, expect) {
        const r = await probeJson([], "nonexistent.invalid");
        expect(cliSeen(r), {
          code: "connect.dns",
          stage: "connect",
          fix: /IP address/,
          opensshFix: /-o HostName=/,
        });
      },
    },
    {
      name: "a closed port is connect.refused",
      reproduces: [{ code: "connect.refused", by: "CLI: probe a closed port" }],
      async run({ closedPort, probeJson }, expect) {
        const r = await probeJson([], `127.0.0.1:${closedPort}`);
        expect(cliSeen(r), {
          code: "connect.refused",
          stage: "connect",
          fix: /--port PORT/,
          opensshFix: /-p PORT/,
        });
      },
    },
    {
      name: "a listener whose accept queue is full (SYNs dropped) is connect.timeout",
      reproduces: [{
        code: "connect.timeout",
        by: "CLI: probe --timeout 1 a listener dropping SYNs",
      }],
      async run({ probeJson }, expect) {
        const hole = await startNetem("blackhole");
        try {
          const r = await probeJson([], `127.0.0.1:${hole.port}`);
          expect(cliSeen(r), {
            code: "connect.timeout",
            stage: "connect",
            fix: /--timeout 30/,
            opensshFix: /-o ConnectTimeout=30/,
          });
        } finally {
          await hole.stop();
        }
      },
    },
    {
      name: "a ProxyCommand that exits before sending a byte is connect.proxy-command-failed",
      reproduces: [{
        code: "connect.proxy-command-failed",
        by: "library: probe({proxyCommand: \"sh -c 'echo … >&2; exit 3'\"})",
      }],
      async run(_ctx, expect) {
        const tracer = new Tracer();
        const { error } = await probe({
          host: "core.example",
          port: 22,
          timeoutMs: 5000,
          tracer,
          proxyCommand: "sh -c 'echo no route to %h >&2; exit 3'",
        });
        assert.ok(error);
        expect(explained(error, tracer), {
          code: "connect.proxy-command-failed",
          stage: "connect",
          fix: /run the command by hand/,
          opensshFix: /ProxyCommand/,
          says: /exited with status 3 .*no route to core\.example/,
        });
      },
    },
    {
      name: "a host name the socket layer rejects is connect.failed",
      reproduces: [{ code: "connect.failed", by: 'library: probe({host: "exa mple"})' }],
      async run(_ctx, expect) {
        const tracer = new Tracer();
        const { error } = await probe({ host: "exa mple", port: 22, timeoutMs: 1000, tracer });
        assert.ok(error);
        expect(explained(error, tracer), {
          code: "connect.failed",
          stage: "connect",
          fix: /address and port/,
        });
      },
    },
    {
      name: "a server that closes at once is version.closed",
      reproduces: [{ code: "version.closed", by: "CLI: probe a TCP server that closes at once" }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = async () => {};
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.closed",
          stage: "version",
          fix: /retry|logs/,
        });
      },
    },
    {
      name: "a web server is version.not-ssh, said to look like HTTP",
      reproduces: [{ code: "version.not-ssh", by: "CLI: probe an HTTP server" }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = async (c) => {
          await c.write(encoder.encode("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"));
        };
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.not-ssh",
          stage: "version",
          fix: /--port PORT/,
          opensshFix: /-p PORT/,
          says: /HTTP/,
        });
      },
    },
    {
      name: "an SMTP greeting is version.not-ssh, said to look like a mail server",
      reproduces: [{ code: "version.not-ssh", by: "CLI: probe an SMTP server" }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = (c) => sendThenDrain(c, "220 mail.example.com ESMTP Postfix\r\n");
        const r = await probeJson();
        const seen = cliSeen(r);
        expect(seen, {
          code: "version.not-ssh",
          stage: "version",
          fix: /--port PORT/,
          says: /SMTP/,
        });
      },
    },
    {
      name: "OpenSSH's PerSourcePenalties refusal is version.refused, not 'not an SSH server'",
      reproduces: [{
        code: "version.refused",
        by: "CLI: probe a server answering 'Not allowed at this time'",
      }],
      async run({ raw, probeJson }, expect) {
        // What OpenSSH 9.8+ sends a penalised address before closing (sshd.c).
        raw.behaviour = async (c) => {
          await c.write(encoder.encode("Not allowed at this time\r\n"));
        };
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.refused",
          stage: "version",
          fix: /PerSourcePenaltyExemptList/,
          says: /PerSourcePenalties/,
        });
      },
    },
    {
      name: "OpenSSH's MaxStartups refusal is version.refused naming MaxStartups",
      reproduces: [{
        code: "version.refused",
        by: "CLI: probe a server answering 'Exceeded MaxStartups'",
      }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = async (c) => {
          await c.write(encoder.encode("Exceeded MaxStartups\r\n"));
        };
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.refused",
          stage: "version",
          fix: /--concurrency|MaxStartups/,
          says: /MaxStartups/,
        });
      },
    },
    {
      name: "an SSH-1.5 server is version.ssh1-only",
      reproduces: [{ code: "version.ssh1-only", by: "CLI: probe an SSH-1.5 server" }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = (c) => sendThenDrain(c, "SSH-1.5-Cisco-1.25\r\n");
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.ssh1-only",
          stage: "version",
          fix: /ip ssh version 2/,
        });
      },
    },
    {
      name: "an SSH-3.0 server is version.unsupported",
      reproduces: [{ code: "version.unsupported", by: "CLI: probe an SSH-3.0 server" }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = (c) => sendThenDrain(c, "SSH-3.0-Future_1.0\r\n");
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.unsupported",
          stage: "version",
          fix: /SSH version 2/,
        });
      },
    },
    {
      name: "a silent server is version.timeout",
      reproduces: [{ code: "version.timeout", by: "CLI: probe --timeout 1 a silent TCP server" }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = drain;
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.timeout",
          stage: "version",
          fix: /--timeout 30.*UseDNS no/,
          opensshFix: /-o ConnectTimeout=30/,
        });
      },
    },
    {
      name: "endless text lines are version.too-many-lines",
      reproduces: [{
        code: "version.too-many-lines",
        by: "CLI: probe a server sending 200 text lines",
      }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = async (c) => {
          for (let i = 0; i < 200; i++) await c.write(encoder.encode(`line ${i}\r\n`));
          await drain(c);
        };
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.too-many-lines",
          stage: "version",
          fix: /--port PORT/,
        });
      },
    },
    {
      name: "a 400-byte version line is version.line-too-long",
      reproduces: [{
        code: "version.line-too-long",
        by: "CLI: probe a server with a 400-byte version line",
      }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = (c) => sendThenDrain(c, `SSH-2.0-${"x".repeat(392)}\r\n`);
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.line-too-long",
          stage: "version",
          fix: /--port PORT/,
        });
      },
    },
    {
      name: "a version line without a software field is version.malformed",
      reproduces: [{ code: "version.malformed", by: 'CLI: probe a server sending "SSH-2.0"' }],
      async run({ raw, probeJson }, expect) {
        raw.behaviour = (c) => sendThenDrain(c, "SSH-2.0\r\n");
        const r = await probeJson();
        expect(cliSeen(r), {
          code: "version.malformed",
          stage: "version",
          fix: /SSH service/,
        });
      },
    },
    {
      name: "a reset before the version line is version.connection-reset",
      reproduces: [{
        code: "version.connection-reset",
        entry: "*.connection-reset",
        by: "CLI: probe a server that resets the connection",
      }],
      async run({ probeJson }, expect) {
        const reset = await startNetem("reset");
        let r: CliResult;
        try {
          r = await probeJson([], `127.0.0.1:${reset.port}`);
        } finally {
          await reset.stop();
        }
        expect(cliSeen(r), {
          entry: "*.connection-reset",
          code: "version.connection-reset",
          stage: "version",
          fix: /firewalls/,
        });
      },
    },
  ],
});
