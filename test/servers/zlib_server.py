#!/usr/bin/python3
"""A tiny asyncssh server that offers only plain `zlib` compression (compression from the first
encrypted packet, RFC 4253 §6.2), for sshtrace's interop tests: OpenSSH's sshd can only do the
delayed `zlib@openssh.com`, asyncssh can do both.

Password login for one user (password from $ZLIB_SERVER_PASSWORD). Exec commands:
  * `echo TEXT`        prints TEXT and a newline;
  * `stream N`         prints N bytes of half-compressible, deterministic data (see `stream()`);
  * `sha256`           reads stdin to its end and prints its SHA-256 (hex) and length.
Anything else exits with status 127. Prints `LISTENING <port>` once ready.

Run with /usr/bin/python3 (Debian's python3-asyncssh).
"""

import argparse
import asyncio
import hashlib
import os
import sys
import warnings

warnings.filterwarnings("ignore")  # cryptography deprecation noise

import asyncssh  # noqa: E402


def stream(n):
    """N bytes: numbered text lines, each followed by 32 bytes of SHA-256 chain output in hex.

    The test computes the same bytes and compares checksums; the text compresses well and the hex
    less so, so zlib does real work in both its literal and back-reference paths.
    """
    out = bytearray()
    h = b"sshtrace"
    i = 0
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += b"line %08d %s\n" % (i, h.hex().encode())
        i += 1
    return bytes(out[:n])


async def handle(process):
    command = process.command or ""
    try:
        if command.startswith("echo "):
            process.stdout.write(command[5:].encode() + b"\n")
            process.exit(0)
        elif command.startswith("stream "):
            data = stream(int(command.split()[1]))
            for off in range(0, len(data), 65536):
                process.stdout.write(data[off:off + 65536])
                await process.stdout.drain()
            process.exit(0)
        elif command == "sha256":
            h = hashlib.sha256()
            total = 0
            while True:
                chunk = await process.stdin.read(65536)
                if not chunk:
                    break
                h.update(chunk)
                total += len(chunk)
            process.stdout.write(b"%s %d\n" % (h.hexdigest().encode(), total))
            process.exit(0)
        else:
            process.stderr.write(b"unknown command\n")
            process.exit(127)
    except (asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, BrokenPipeError):
        process.exit(1)


class Server(asyncssh.SSHServer):
    def __init__(self, user, password):
        self.user = user
        self.password = password

    def begin_auth(self, username):
        return True

    def password_auth_supported(self):
        return True

    def validate_password(self, username, password):
        return username == self.user and password == self.password


async def serve(cfg):
    key = asyncssh.generate_private_key("ssh-ed25519")
    server = await asyncssh.create_server(
        lambda: Server(cfg.user, cfg.password),
        cfg.host,
        cfg.port,
        server_host_keys=[key],
        compression_algs=["zlib"],
        process_factory=handle,
        encoding=None,
        allow_pty=False,
        agent_forwarding=False,
        x11_forwarding=False,
        login_timeout=60,
        reuse_address=True,
    )
    port = server.sockets[0].getsockname()[1]
    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()
    await server.wait_closed()


def main():
    parser = argparse.ArgumentParser(description="An SSH server offering only zlib compression.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--user", default="zlib")
    parser.add_argument("--password", default=os.environ.get("ZLIB_SERVER_PASSWORD", "zlib"))
    parser.add_argument("--dump-stream", type=int, metavar="N",
                        help="print the bytes `stream N` sends and exit")
    cfg = parser.parse_args()
    if cfg.dump_stream is not None:
        sys.stdout.buffer.write(stream(cfg.dump_stream))
        return
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(serve(cfg))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
