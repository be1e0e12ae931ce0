#!/usr/bin/python3
"""An SSH server on Debian's python3-paramiko, for sshtrace's interop tests.

It follows the contract of every server in test/servers/ (see test/helpers/independent_servers.ts):
listens on 127.0.0.1, a free port, and prints `LISTENING <port>` once ready. Environment:
  INTEROP_HOST_KEYS       host key files (OpenSSH format), separated by ':'
  INTEROP_PASSWORD        the password every user name logs in with
  INTEROP_AUTHORIZED_KEY  public keys (authorized_keys lines) accepted for every user
Exec commands (a pty shell runs the same ones, and `exit [N]`):
  echo WORDS        prints WORDS and a newline
  whoami            prints the user name and the auth method that succeeded
  pty               prints `TERM COLSxROWS` of the pty request, or `none`
  bytes N [stderr]  writes N bytes, byte i being i % 251, to stdout (or stderr)
  check N           reads stdin to its end; prints `ok N` if it was N bytes of that pattern
  exit N            exits with status N
Anything else prints an error on stderr and exits 127. It exits when its stdin closes (the test
process is gone).

Run with /usr/bin/python3.
"""

import base64
import os
import socket
import sys
import threading
import warnings

warnings.filterwarnings("ignore")  # cryptography deprecation noise

import paramiko  # noqa: E402

PATTERN = bytes(i % 251 for i in range(251 * 256))  # a whole number of periods, 62.75 KiB


def pattern_chunks(n):
    """N bytes of the pattern (byte i is i % 251), in chunks of at most len(PATTERN)."""
    while n > 0:
        chunk = PATTERN[: min(n, len(PATTERN))]
        n -= len(chunk)
        yield chunk


def load_host_key(path):
    kind = open(path + ".pub").read().split()[0]
    cls = {
        "ssh-ed25519": paramiko.Ed25519Key,
        "ecdsa-sha2-nistp256": paramiko.ECDSAKey,
        "ecdsa-sha2-nistp384": paramiko.ECDSAKey,
        "ecdsa-sha2-nistp521": paramiko.ECDSAKey,
        "ssh-rsa": paramiko.RSAKey,
    }[kind]
    return cls(filename=path)


class Server(paramiko.ServerInterface):
    def __init__(self, password, authorized_blobs):
        self.password = password
        self.authorized_blobs = authorized_blobs
        self.user = None
        self.method = None
        self.requests = {}  # channel id -> {"pty": (term, cols, rows), "event", "command"}

    def get_allowed_auths(self, username):
        return "password,publickey"

    def check_auth_password(self, username, password):
        if password == self.password:
            self.user, self.method = username, "password"
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_auth_publickey(self, username, key):
        # Called for the query and for the signed request; paramiko checks the signature.
        if key.asbytes() in self.authorized_blobs:
            self.user, self.method = username, "publickey"
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def state(self, channel):
        return self.requests.setdefault(
            channel.get_id(), {"pty": None, "event": threading.Event(), "command": None}
        )

    def check_channel_request(self, kind, chanid):
        if kind == "session":
            return paramiko.OPEN_SUCCEEDED
        return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

    def check_channel_pty_request(self, channel, term, width, height, pw, ph, modes):
        self.state(channel)["pty"] = (term.decode() if isinstance(term, bytes) else term,
                                      width, height)
        return True

    def check_channel_window_change_request(self, channel, width, height, pw, ph):
        st = self.state(channel)
        if st["pty"]:
            st["pty"] = (st["pty"][0], width, height)
        return True

    def check_channel_env_request(self, channel, name, value):
        return True

    def check_channel_shell_request(self, channel):
        st = self.state(channel)
        st["command"] = None
        st["event"].set()
        return True

    def check_channel_exec_request(self, channel, command):
        st = self.state(channel)
        st["command"] = command.decode("utf-8", "replace")
        st["event"].set()
        return True


def check(read, n):
    """Reads to EOF; returns (status, message): was it N bytes of the pattern?"""
    offset = 0
    while True:
        data = read(32768)  # at most len(PATTERN) - 251, so one slice holds the expected bytes
        if not data:
            break
        start = offset % 251
        if data != PATTERN[start:start + len(data)]:
            return 1, "mismatch after byte %d\n" % offset
        offset += len(data)
    return (0, "ok %d\n" % offset) if offset == n else (1, "got %d bytes\n" % offset)


def run_command(server, st, command, out, err, read=None):
    """Runs one command; returns its exit status. `out`/`err` take bytes, `read` gives stdin."""
    words = command.split()
    if not words:
        return 0
    name, args = words[0], words[1:]
    if name == "echo":
        out((" ".join(args) + "\n").encode())
        return 0
    if name == "whoami":
        out(("%s %s\n" % (server.user, server.method)).encode())
        return 0
    if name == "pty":
        pty = st["pty"]
        out((("%s %dx%d" % pty) if pty else "none").encode() + b"\n")
        return 0
    if name == "bytes" and len(args) >= 1 and args[0].isdigit():
        write = err if args[1:] == ["stderr"] else out
        for chunk in pattern_chunks(int(args[0])):
            write(chunk)
        return 0
    if name == "check" and read and len(args) == 1 and args[0].isdigit():
        status, message = check(read, int(args[0]))
        out(message.encode())
        return status
    if name == "exit":
        return int(args[0]) if args and args[0].isdigit() else 0
    err(("unknown command: %s\n" % name).encode())
    return 127


def shell(server, st, chan):
    """A prompt shell for a pty: echoes what is typed, runs a line at CR or LF."""
    crlf = (lambda b: b.replace(b"\n", b"\r\n")) if st["pty"] else (lambda b: b)
    out = lambda b: chan.sendall(crlf(b))  # noqa: E731
    err = lambda b: chan.sendall_stderr(crlf(b))  # noqa: E731
    out(b"interop$ ")
    line = b""
    while True:
        data = chan.recv(4096)
        if not data:
            return 0
        for byte in data:
            c = bytes([byte])
            if c in (b"\r", b"\n"):
                if st["pty"]:
                    chan.sendall(b"\r\n")
                command = line.decode("utf-8", "replace")
                line = b""
                words = command.split()
                if words and words[0] == "exit":
                    return int(words[1]) if len(words) > 1 and words[1].isdigit() else 0
                run_command(server, st, command, out, err)
                out(b"interop$ ")
            else:
                if st["pty"]:
                    chan.sendall(c)
                line += c


def serve_channel(server, chan):
    st = server.state(chan)
    if not st["event"].wait(30):
        chan.close()
        return
    try:
        if st["command"] is None:
            status = shell(server, st, chan)
        else:
            status = run_command(server, st, st["command"], chan.sendall, chan.sendall_stderr,
                                 chan.recv)
        chan.send_exit_status(status)
    except (OSError, EOFError, paramiko.SSHException):
        pass
    finally:
        chan.close()


def serve_connection(sock, host_keys, password, authorized_blobs):
    transport = paramiko.Transport(sock)
    try:
        for key in host_keys:
            transport.add_server_key(key)
        transport.load_server_moduli()
        server = Server(password, authorized_blobs)
        transport.start_server(server=server)
        while transport.is_active():
            chan = transport.accept(1)
            if chan is not None:
                threading.Thread(target=serve_channel, args=(server, chan), daemon=True).start()
    except (OSError, EOFError, paramiko.SSHException) as e:
        sys.stderr.write("connection ended: %r\n" % (e,))
    finally:
        transport.close()


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    host_keys = [load_host_key(p) for p in os.environ["INTEROP_HOST_KEYS"].split(":")]
    password = os.environ["INTEROP_PASSWORD"]
    authorized_blobs = [
        base64.b64decode(line.split()[1])
        for line in open(os.environ["INTEROP_AUTHORIZED_KEY"])
        if line.strip() and not line.startswith("#")
    ]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    sys.stdout.write("LISTENING %d\n" % listener.getsockname()[1])
    sys.stdout.flush()
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    while True:
        sock, _ = listener.accept()
        threading.Thread(
            target=serve_connection, args=(sock, host_keys, password, authorized_blobs),
            daemon=True,
        ).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
