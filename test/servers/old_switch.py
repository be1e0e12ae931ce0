#!/usr/bin/python3
"""An SSH server that imitates an old switch (H3C Comware 5 by default; Huawei VRP or Cisco IOS
with --device), for sshtrace's interop tests.

What it imitates:
  * the version line `SSH-1.99-Comware-5.20` (asyncssh always sends `SSH-2.0-`: patched below);
  * legacy-only algorithms: kex diffie-hellman-group1-sha1 / group14-sha1, host key ssh-rsa
    (SHA-1 signatures), ciphers aes128-cbc / 3des-cbc, MACs hmac-sha1 / hmac-md5, no compression;
  * keyboard-interactive login only (one hidden "Password:" prompt), a pre-auth banner;
  * exec and subsystems refused; a pty shell with a vendor prompt, character echo, paged output
    (`  ---- More ----` / ` --More-- `) that waits for a key and erases itself afterwards.

Run with /usr/bin/python3 (Debian's python3-asyncssh). Prints `LISTENING <port>` once ready.
`--dump COMMAND` prints a command's unpaged output (lines joined by \\n) and exits, so tests can
compare what a client collected with what the switch holds.
"""

import argparse
import asyncio
import os
import sys
import warnings

warnings.filterwarnings("ignore")  # cryptography deprecation noise for Blowfish/CAST5/SEED

import asyncssh  # noqa: E402
from asyncssh import connection as _connection  # noqa: E402

# --------------------------------------------------------------------------------------------
# Device profiles
# --------------------------------------------------------------------------------------------

DEVICES = {
    "comware": {
        "hostname": "H3C",
        "version": "SSH-1.99-Comware-5.20",
        "pager": b"  ---- More ----",
        "erase": "backspace",
        "disable_paging": ["screen-length disable"],
        "disable_paging_reply": [" % Screen-length configuration is disabled for current user."],
        "logout": ["quit"],
    },
    "huawei": {
        "hostname": "HUAWEI",
        "version": "SSH-2.0-HUAWEI-1.5",
        "pager": b"  ---- More ----",
        "erase": "ansi42",
        "disable_paging": ["screen-length 0 temporary"],
        "disable_paging_reply": [
            "Info: The configuration takes effect on the current user terminal interface only."
        ],
        "logout": ["quit"],
    },
    "cisco": {
        "hostname": "Switch",
        "version": "SSH-1.99-Cisco-1.25",
        "pager": b" --More-- ",
        "erase": "backspace",
        "disable_paging": ["terminal length 0"],
        "disable_paging_reply": [],
        "logout": ["exit", "quit", "logout"],
    },
}

BANNER = (
    "\r\n"
    "******************************************************************************\r\n"
    "*  Authorized access only. All sessions are logged.                          *\r\n"
    "******************************************************************************\r\n"
)

GREETING = {
    "comware": [
        "",
        "******************************************************************************",
        "* Copyright (c) 2004-2010 Hangzhou H3C Tech. Co., Ltd. All rights reserved.  *",
        "* Without the owner's prior written consent,                                 *",
        "* no decompiling or reverse-engineering shall be allowed.                    *",
        "******************************************************************************",
        "",
    ],
    "huawei": [
        "",
        "Info: The max number of VTY users is 5, and the number",
        "      of current VTY users on line is 1.",
        "      The current login time is 2012-03-04 10:11:12.",
        "",
    ],
    "cisco": [""],
}


def version_lines(device, hostname):
    if device == "huawei":
        return [
            "Huawei Versatile Routing Platform Software",
            "VRP (R) software, Version 5.70 (S5700 V100R005C01SPC100)",
            "Copyright (C) 2000-2011 HUAWEI TECH CO., LTD",
            "Quidway S5700-28C-EI Routing Switch uptime is 0 week, 1 day, 2 hours, 3 minutes",
        ]
    if device == "cisco":
        return [
            "Cisco IOS Software, C2960 Software (C2960-LANBASEK9-M), Version 12.2(50)SE5, "
            "RELEASE SOFTWARE (fc1)",
            "Copyright (c) 1986-2010 by Cisco Systems, Inc.",
            "ROM: Bootstrap program is C2960 boot loader",
            "%s uptime is 1 day, 2 hours, 3 minutes" % hostname,
        ]
    return [
        "H3C Comware Platform Software",
        "Comware Software, Version 5.20, Release 2220P02",
        "Copyright (c) 2004-2010 Hangzhou H3C Tech. Co., Ltd. All rights reserved.",
        "H3C S3100-26TP-SI uptime is 0 week, 1 day, 2 hours, 3 minutes",
    ]


def config_lines(device, hostname):
    """A long running configuration (>= 200 lines), numbered so order can be checked."""
    lines = []
    if device == "cisco":
        lines += ["Building configuration...", "", "Current configuration : 9999 bytes", "!"]
        lines += ["version 12.2", "hostname %s" % hostname, "!"]
        for i in range(1, 49):
            lines += [
                "interface FastEthernet0/%d" % i,
                " description port-%03d" % i,
                " switchport access vlan %d" % (10 + i % 4),
                " spanning-tree portfast",
                "!",
            ]
        lines += ["line vty 0 4", " login local", "!", "end"]
        return lines
    lines += ["#", " version 5.20, Release 2220P02", "#", " sysname %s" % hostname, "#"]
    for vlan in (1, 10, 11, 12, 13):
        lines += ["vlan %d" % vlan, "#"]
    for i in range(1, 49):
        lines += [
            "interface Ethernet1/0/%d" % i,
            " description port-%03d" % i,
            " port access vlan %d" % (10 + i % 4),
            "#",
        ]
    lines += [" user-interface vty 0 4", "  authentication-mode scheme", "#", "return"]
    return lines


def interface_brief(device):
    if device == "cisco":
        lines = ["Interface              IP-Address      OK? Method Status                Protocol"]
        for i in range(1, 9):
            lines.append("FastEthernet0/%-9d unassigned      YES unset  up                    up" % i)
        return lines
    lines = [
        "The brief information of interface(s) under route mode:",
        "Interface            Link      Protocol-link  Protocol type      Main IP",
        "Vlan-interface1      UP        UP             ETHERNET           192.0.2.1",
        "",
        "The brief information of interface(s) under bridge mode:",
        "Interface            Link      Speed        Duplex   Link-type  PVID",
    ]
    for i in range(1, 9):
        lines.append("Ethernet1/0/%-8d UP        100M(a)      full(a)  access     1" % i)
    return lines


def command_output(device, hostname, command):
    """Lines for a known display/show command, or None."""
    words = command.split()
    if not words:
        return None
    verb = "show" if device == "cisco" else "display"
    if words[0] != verb or len(words) < 2:
        return None
    rest = " ".join(words[1:])
    if rest == "version":
        return version_lines(device, hostname)
    if rest in ("current-configuration", "running-config"):
        if (device == "cisco") != (rest == "running-config"):
            return None
        return config_lines(device, hostname)
    if rest in ("interface brief", "ip interface brief"):
        if (device == "cisco") != (rest == "ip interface brief"):
            return None
        return interface_brief(device)
    return None


# --------------------------------------------------------------------------------------------
# The version line: asyncssh 2.10.1 always sends `SSH-2.0-` + version; a Comware switch says
# `SSH-1.99-`. The exchange hash uses the exact line, so _server_version must hold it too.
# --------------------------------------------------------------------------------------------

VERSION_LINE = {"line": b"SSH-1.99-Comware-5.20"}


def _send_version(self):
    if self.is_client():
        version = b"SSH-2.0-" + self._version
        self._client_version = version
        self.set_extra_info(client_version=version.decode("ascii"))
    else:
        version = VERSION_LINE["line"]
        self._server_version = version
        self.set_extra_info(server_version=version.decode("ascii"))
    self._send(version + b"\r\n")


_connection.SSHConnection._send_version = _send_version


# --------------------------------------------------------------------------------------------
# The shell
# --------------------------------------------------------------------------------------------


class SwitchSession(asyncssh.SSHServerSession):
    def __init__(self, cfg):
        self.cfg = cfg
        self.device = cfg.device
        self.profile = DEVICES[cfg.device]
        self.hostname = cfg.hostname
        self.chan = None
        self.line = bytearray()
        self.paging = True
        self.page_rows = cfg.page_rows
        self.pending = []  # output lines waiting behind a pager
        self.at_pager = False
        self.last_cr = False
        # cisco: `#` (enable) or `>` (disable); with an enable secret the shell starts at `>`
        self.enable_secret = cfg.enable_secret
        self.privileged = not cfg.enable_secret
        self.reading_secret = False  # after `enable`: the next line is the secret (no echo)
        self.dialog = None  # (callback, echo): the next line answers a question
        self.netconf = False  # the netconf subsystem (with --netconf): hello, then quiet
        self.system_view = False  # comware/huawei: `[name]` after system-view
        self.closed = False

    # -- asyncssh hooks --

    def connection_made(self, chan):
        self.chan = chan

    def pty_requested(self, term_type, term_size, term_modes):
        return True

    def shell_requested(self):
        return True

    def exec_requested(self, command):
        return False

    def subsystem_requested(self, subsystem):
        if subsystem == "netconf" and self.cfg.netconf:
            self.netconf = True
            return True
        return False

    def session_started(self):
        if self.netconf:
            if self.cfg.netconf == "garbage":
                self.write(b"% Unknown command: netconf\r\n]]>]]>")
                return
            self.write((
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities>'
                "<capability>urn:ietf:params:netconf:base:1.0</capability>"
                "<capability>urn:ietf:params:netconf:base:1.1</capability>"
                "<capability>urn:ietf:params:netconf:capability:writable-running:1.0"
                "</capability>"
                "<capability>http://www.h3c.com/netconf/base:1.0</capability>"
                "</capabilities><session-id>7</session-id></hello>]]>]]>").encode())
            return
        greeting = GREETING[self.device]
        self.write(b"\r\n".join(s.encode() for s in greeting))
        self.write(b"\r\n" if greeting[-1] else b"")
        self.write(self.prompt())

    def data_received(self, data, datatype):
        if self.netconf:
            return  # the client's hello and RPCs are read and ignored
        for byte in data:
            if self.closed:
                return
            self.key(byte)

    def eof_received(self):
        self.close()
        return False

    # -- helpers --

    def write(self, data):
        if data and not self.closed:
            self.chan.write(data)

    def prompt(self):
        if self.device == "cisco":
            mode = "(config)" if self.system_view else ""
            return ("%s%s%s" % (self.hostname, mode, "#" if self.privileged else ">")).encode()
        if self.system_view:
            return ("[%s]" % self.hostname).encode()
        return ("<%s>" % self.hostname).encode()

    def close(self):
        if not self.closed:
            self.closed = True
            self.chan.close()

    def erase_pager(self):
        n = len(self.profile["pager"])
        erase = self.cfg.erase or self.profile["erase"]
        if erase == "ansi42":
            self.write(b"\x1b[42D" + b" " * 42 + b"\x1b[42D")
        elif erase == "ansi":
            self.write(b"\x1b[%dD" % n + b" " * n + b"\x1b[%dD" % n)
        else:
            self.write(b"\x08" * n + b" " * n + b"\x08" * n)

    # -- keys --

    def key(self, byte):
        if self.at_pager:
            self.pager_key(byte)
            return
        if byte == 0x0A and self.last_cr:  # \r\n counts as one Enter
            self.last_cr = False
            return
        self.last_cr = byte == 0x0D
        if byte in (0x0D, 0x0A):
            line = bytes(self.line)
            self.line.clear()
            self.write(b"\r\n")
            if self.reading_secret:
                self.check_secret(line)
            elif self.dialog:
                answer, _ = self.dialog
                self.dialog = None
                answer(line.decode("latin-1").strip())
            else:
                self.run(line)
        elif byte in (0x08, 0x7F):
            if self.line:
                self.line.pop()
                self.write(b"\x08 \x08")
        elif byte == 0x03:  # Ctrl-C: drop the line
            self.line.clear()
            self.write(b"^C\r\n" + self.prompt())
        elif byte >= 0x20 or byte == 0x09:
            self.line.append(byte)
            if not self.reading_secret and not (self.dialog and not self.dialog[1]):
                self.write(bytes([byte]))

    def ask(self, question, answer, echo=True):
        """Writes a question and hands the next line to answer(text)."""
        self.dialog = (answer, echo)
        self.write(question.encode())

    def save_dialog(self):
        done = [" Validating file. Please wait....",
                " Configuration is saved to device successfully."]
        if self.device == "cisco":
            self.ask("Destination filename [startup-config]? ",
                     lambda _a: self.output(["Building configuration...", "[OK]"]))
            return

        def file_name(_answer):
            self.output(done)

        def sure(answer):
            if answer.upper() != "Y":
                self.write(self.prompt())
                return
            self.ask(" Please input the file name(*.cfg)[flash:/startup.cfg]\r\n"
                     "(To leave the existing filename unchanged, press the enter key):",
                     file_name)
        self.ask(" The current configuration will be written to the device. "
                 "Are you sure? [Y/N]:", sure)

    def check_secret(self, line):
        self.reading_secret = False
        ok = line.decode("latin-1") == self.enable_secret
        if self.device != "cisco":
            # Comware `super` (level 3) / VRP `super` (level 15)
            if not ok:
                wrong = "Error: Password is wrong." if self.device == "huawei" \
                    else " % Password is wrong."
                self.output([wrong])
                return
            self.privileged = True
            self.output([" User privilege level is 3, and only those commands can be used",
                         " registered at or below level 3."] if self.device == "comware" else
                        ["Now user privilege is level 15, and only those commands whose level "
                         "is equal to or less than this level can be used."])
            return
        if ok:
            self.privileged = True
            self.write(self.prompt())
        else:
            self.write(b"% Bad secrets\r\n\r\n" + self.prompt())

    def pager_key(self, byte):
        if byte == 0x0A and self.last_cr:
            self.last_cr = False
            return
        self.last_cr = byte == 0x0D
        self.erase_pager()
        self.at_pager = False
        if byte == 0x20:
            self.emit_page(self.page_rows)
        elif byte in (0x0D, 0x0A):
            self.emit_page(1)
        else:  # q, Ctrl-C...: abandon the rest of the output
            self.pending = []
            self.write(self.prompt())

    def emit_page(self, rows):
        page, self.pending = self.pending[:rows], self.pending[rows:]
        for line in page:
            self.write(line.encode("latin-1") + b"\r\n")
        if self.pending:
            self.at_pager = True
            self.write(self.profile["pager"])
        else:
            self.write(self.prompt())

    def output(self, lines):
        """Prints lines, paging them if paging is on, then the prompt."""
        self.pending = list(lines)
        self.emit_page(self.page_rows if self.paging and self.page_rows > 0 else len(lines))

    def error(self, line):
        col = len(self.prompt()) + max(0, len(line.split()[0]) if line.split() else 0)
        caret = " " * col + "^"
        if self.device == "cisco":
            msg = ["% Invalid input detected at '^' marker.", ""]
        elif self.device == "huawei":
            msg = ["Error: Unrecognized command found at '^' position."]
        else:
            msg = [" % Unrecognized command found at '^' position."]
        self.output([caret] + msg)

    CONFIG_WORDS = ("sysname", "hostname", "interface", "description", "vlan", "shutdown",
                    "undo", "no", "ip", "port")

    def config_line(self, line, command):
        """A line in system view / (config) mode: known words accepted silently."""
        if command in ("return", "end"):
            self.system_view = False
            self.write(self.prompt())
            return
        if command == "quit" or command == "exit":
            self.system_view = False
            self.write(self.prompt())
            return
        if command.split()[0] not in self.CONFIG_WORDS:
            self.error(line)
            return
        if command.split()[0] in ("sysname", "hostname") and len(command.split()) == 2:
            self.hostname = command.split()[1]
        self.write(self.prompt())

    def run(self, raw):
        line = raw.decode("latin-1").strip()
        command = " ".join(line.split())
        if not command:
            self.write(self.prompt())
            return
        if command in self.profile["logout"]:
            if self.system_view:
                self.system_view = False
                self.write(self.prompt())
                return
            self.close()
            return
        if command in self.profile["disable_paging"]:
            self.paging = False
            self.output(self.profile["disable_paging_reply"])
            return
        if self.device == "cisco" and command == "enable" and not self.privileged \
                and self.enable_secret:
            self.reading_secret = True
            self.write(b"Password: ")
            return
        if self.device == "cisco" and command in ("enable", "disable"):
            self.privileged = command == "enable"
            self.write(self.prompt())
            return
        if self.system_view and command.split()[0] not in ("display", "show", "save"):
            self.config_line(line, command)
            return
        if self.device == "cisco" and self.privileged and command in ("configure terminal",
                                                                       "conf t"):
            self.system_view = True
            self.output(["Enter configuration commands, one per line.  End with CNTL/Z."])
            return
        if self.device == "cisco" and self.privileged and command in ("write memory", "write"):
            self.output(["Building configuration...", "[OK]"])
            return
        if command in ("save", "copy running-config startup-config"):
            self.save_dialog()
            return
        if command == "save force" and self.device != "cisco":
            self.output([" Validating file. Please wait....",
                         " Configuration is saved to device successfully."])
            return
        if command == "license activate":
            self.ask("Enter activation key: ", lambda key: self.output(
                ["License activated."] if key == "K3Y-42=ok" else ["% Invalid key."]), echo=False)
            return
        if self.device != "cisco" and command == "super" and self.enable_secret:
            self.reading_secret = True
            self.write(b" Password:")
            return
        if self.device != "cisco" and not self.privileged and (
                command.startswith("display current") or command == "system-view"):
            # level 1 (visit/monitor): configuration commands are not known
            self.error(line)
            return
        if self.device == "cisco" and not self.privileged and (
                command.startswith("show run") or command.split()[0] in ("configure", "write")):
            # user EXEC: the privileged commands are not even known
            self.error(line)
            return
        if self.device != "cisco" and command == "system-view":
            self.system_view = True
            self.output(["System View: return to User View with Ctrl+Z."])
            return
        lines = command_output(self.device, self.hostname, command)
        if lines is None:
            self.error(line)
            return
        self.output(lines)


class SwitchServer(asyncssh.SSHServer):
    def __init__(self, cfg):
        self.cfg = cfg
        self.conn = None

    def connection_made(self, conn):
        self.conn = conn

    def begin_auth(self, username):
        self.conn.send_auth_banner(BANNER)
        return True

    def password_auth_supported(self):
        return False

    def public_key_auth_supported(self):
        return False

    def kbdint_auth_supported(self):
        return True

    def get_kbdint_challenge(self, username, lang, submethods):
        return ("", "", "", [("Password: ", False)])

    def validate_kbdint_response(self, username, responses):
        return username == self.cfg.user and list(responses) == [self.cfg.password]

    def session_requested(self):
        return SwitchSession(self.cfg)


async def serve(cfg):
    if cfg.host_key:
        key = asyncssh.read_private_key(cfg.host_key)
    else:
        key = asyncssh.generate_private_key("ssh-rsa", key_size=cfg.key_bits)
    keypair = asyncssh.load_keypairs([key])[0]
    keypair.host_key_algorithms = [b"ssh-rsa"]  # SHA-1 signatures only, like the old device
    server = await asyncssh.create_server(
        lambda: SwitchServer(cfg),
        cfg.host,
        cfg.port,
        server_host_keys=[keypair],
        kex_algs=["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"],
        encryption_algs=["aes128-cbc", "3des-cbc"],
        mac_algs=["hmac-sha1", "hmac-md5"],
        compression_algs=["none"],
        signature_algs=["ssh-rsa"],
        encoding=None,
        line_editor=False,
        allow_pty=True,
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
    parser = argparse.ArgumentParser(description="An SSH server imitating an old switch.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--device", choices=sorted(DEVICES), default="comware")
    parser.add_argument("--hostname", help="shown in the prompt")
    parser.add_argument("--user", default=os.environ.get("OLD_SWITCH_USER", "admin"))
    parser.add_argument("--password", default=os.environ.get("OLD_SWITCH_PASSWORD", "admin"))
    parser.add_argument("--host-key", help="RSA private key file (default: a new one)")
    parser.add_argument("--key-bits", type=int, default=1024,
                        help="size of the generated RSA host key (old switches: 1024)")
    parser.add_argument("--version-line", help="e.g. SSH-1.99-Comware-5.20")
    parser.add_argument("--erase", choices=["backspace", "ansi", "ansi42"],
                        help="how the pager erases itself (default: per device)")
    parser.add_argument("--page-rows", type=int, default=24)
    parser.add_argument("--netconf", choices=["hello", "garbage"],
                        help="accept the netconf subsystem: send a hello, or a non-hello")
    parser.add_argument("--enable-secret",
                        default=os.environ.get("OLD_SWITCH_ENABLE_SECRET", ""),
                        help="cisco: start at `>`, `enable` asks for this secret; comware/huawei: "
                             "start at a low level, `super` asks for it")
    parser.add_argument("--dump", metavar="COMMAND",
                        help="print the unpaged output of COMMAND and exit")
    cfg = parser.parse_args()
    profile = DEVICES[cfg.device]
    cfg.hostname = cfg.hostname or profile["hostname"]
    if cfg.dump is not None:
        lines = command_output(cfg.device, cfg.hostname, " ".join(cfg.dump.split()))
        if lines is None:
            sys.stderr.write("unknown command: %s\n" % cfg.dump)
            sys.exit(1)
        sys.stdout.write("\n".join(lines) + "\n")
        return
    VERSION_LINE["line"] = (cfg.version_line or profile["version"]).encode("ascii")
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(serve(cfg))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
