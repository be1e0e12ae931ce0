/**
 * ProxyCommand: run a command and speak SSH over its standard input and output (OpenSSH runs
 * it as `$SHELL -c "exec COMMAND"`; sshtrace uses /bin/sh). `%h %p %r %n %%` are expanded
 * first. A command that cannot start, or that ends before sending a byte, is a connect-stage
 * failure (`connect.proxy-command-failed`) quoting its exit status and the end of its stderr.
 * @module
 */

import { LATE, orLate } from "../async.ts";
import { usageError } from "../config/options.ts";
import { SshError } from "../errors/mod.ts";
import { platform } from "../platform/mod.ts";
import { ExpandError, percentExpand } from "../sshconfig/tokens.ts";
import type { ByteStream } from "../transport/stream.ts";
import type { Tracer } from "../trace.ts";

/** The end of the command's stderr kept for the error, in bytes. */
export const STDERR_KEPT = 4096;
/** How long an ended command is given to report its exit status. */
const EXIT_WAIT_MS = 2000;

/** Expands ProxyCommand's tokens: `%h` host, `%p` port, `%r` user, `%n` host as given. */
export function expandProxyCommand(
  template: string,
  values: { host: string; port: number; user: string; original?: string },
): string {
  try {
    return percentExpand(template, {
      h: values.host,
      p: String(values.port),
      r: values.user,
      n: values.original ?? values.host,
    });
  } catch (e) {
    if (e instanceof ExpandError) throw usageError(`ProxyCommand "${template}": ${e.message}`);
    throw e;
  }
}

/** The last `STDERR_KEPT` bytes of a stream, collected as it is read. */
function stderrTail(stream: ReadableStream<Uint8Array>): () => string {
  let tail = new Uint8Array(0);
  (async () => {
    for await (const chunk of stream) {
      const joined = new Uint8Array(Math.min(STDERR_KEPT, tail.length + chunk.length));
      const all = tail.length + chunk.length > STDERR_KEPT
        ? [...tail, ...chunk].slice(-STDERR_KEPT)
        : [...tail, ...chunk];
      joined.set(all);
      tail = joined;
    }
  })().catch(() => {});
  return () => new TextDecoder().decode(tail).trim();
}

/**
 * Starts `command` (already expanded) and returns its standard streams as a byte stream.
 * `host` and `port` name the destination in errors.
 */
export function proxyCommandStream(command: string, host: string, port: number): ByteStream {
  const fail = (why: string, exitCode: number | null, stderr: string) =>
    new SshError(
      "connect",
      "connect.proxy-command-failed",
      `ProxyCommand for ${host}:${port} ${why}` + (stderr ? `; its stderr: ${stderr}` : ""),
      { host, port, command, exitCode, stderr },
    );
  let child;
  try {
    child = platform.spawn("/bin/sh", ["-c", `exec ${command}`]);
  } catch (e) {
    throw fail(`could not be started: ${(e as Error).message}`, null, "");
  }
  const stderr = stderrTail(child.stderr);
  let exited: { code: number; signal: string | null } | null = null;
  child.status.then((s) => (exited = s));
  const reader = child.stdout.getReader();
  const writer = child.stdin.getWriter();
  let received = 0;
  let closed = false;
  const ended = async (): Promise<SshError> => {
    const outcome = await orLate(child.status, EXIT_WAIT_MS);
    const status = outcome === LATE ? null : outcome;
    const why = status === null
      ? "closed its output before sending anything"
      : status.signal
      ? `was killed by ${status.signal} before sending anything`
      : `exited with status ${status.code} before sending anything`;
    return fail(why, status?.code ?? null, stderr());
  };
  return {
    async read() {
      if (closed) return null;
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) {
        if (received === 0 && !closed) throw await ended();
        return null;
      }
      received += value.length;
      return value;
    },
    async write(bytes) {
      try {
        await writer.write(bytes.slice());
      } catch (e) {
        // The command is gone: the next read reports it with its exit status and stderr.
        if (exited || received === 0) return;
        throw e;
      }
    },
    close() {
      if (closed) return;
      closed = true;
      reader.cancel().catch(() => {});
      writer.close().catch(() => {});
      child.kill();
    },
  };
}

/**
 * The tunnel that runs a ProxyCommand for `target` (`ClientOptions.tunnel`), traced as the
 * connect stage's events. Tokens are expanded at once (a bad one is a usage error).
 */
export function proxyCommandTunnel(
  template: string,
  target: { host: string; port: number; user: string },
): (tracer: Tracer) => Promise<ByteStream> {
  const command = expandProxyCommand(template, target);
  return (tracer) => {
    const { host, port } = target;
    tracer.emit({ stage: "connect", type: "resolving", host, port });
    const stream = proxyCommandStream(command, host, port);
    tracer.emit({
      stage: "connect",
      type: "connected",
      host,
      port,
      remoteAddress: `ProxyCommand ${command}`,
    });
    return Promise.resolve(stream);
  };
}
