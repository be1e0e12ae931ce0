// An SSH server on Go's golang.org/x/crypto/ssh (Debian's golang-golang-x-crypto-dev), for
// sshtrace's interop tests. The harness builds it in GOPATH mode (no module proxy):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o .cache/interop/go_server test/servers/go_server.go
//
// It follows the contract of every server in test/servers/ (see
// test/helpers/independent_servers.ts): listens on 127.0.0.1, a free port, prints
// `LISTENING <port>` once ready; reads INTEROP_HOST_KEYS (':'-separated OpenSSH private key files),
// INTEROP_PASSWORD and INTEROP_AUTHORIZED_KEY (authorized_keys lines) from the environment; runs
// the commands echo WORDS, whoami, pty, bytes N [stderr] (byte i is i % 251), check N (stdin is N
// bytes of that pattern: prints `ok N`) and exit N, by exec or from a prompt shell on a pty. It
// exits when its stdin closes (the test process is gone).
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
)

var pattern = func() []byte {
	p := make([]byte, 251*256)
	for i := range p {
		p[i] = byte(i % 251)
	}
	return p
}()

type ptyInfo struct {
	term       string
	cols, rows uint32
}

type session struct {
	user, method string
	ch           ssh.Channel
	mu           sync.Mutex
	pty          *ptyInfo
}

func (s *session) ptyText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pty == nil {
		return "none"
	}
	return fmt.Sprintf("%s %dx%d", s.pty.term, s.pty.cols, s.pty.rows)
}

// check reads r to its end and tells whether it was n bytes of the pattern.
func check(r io.Reader, n int) (uint32, string) {
	buf := make([]byte, 32768)
	offset := 0
	for {
		k, err := r.Read(buf)
		for i, b := range buf[:k] {
			if b != byte((offset+i)%251) {
				return 1, fmt.Sprintf("mismatch after byte %d\n", offset+i)
			}
		}
		offset += k
		if err != nil {
			break
		}
	}
	if offset != n {
		return 1, fmt.Sprintf("got %d bytes\n", offset)
	}
	return 0, fmt.Sprintf("ok %d\n", offset)
}

// run runs one command, writing to out and errw (in, when not nil, is its stdin); it returns the
// exit status.
func (s *session) run(command string, in io.Reader, out, errw io.Writer) uint32 {
	words := strings.Fields(command)
	if len(words) == 0 {
		return 0
	}
	switch name, args := words[0], words[1:]; {
	case name == "echo":
		fmt.Fprintf(out, "%s\n", strings.Join(args, " "))
	case name == "whoami":
		fmt.Fprintf(out, "%s %s\n", s.user, s.method)
	case name == "pty":
		fmt.Fprintf(out, "%s\n", s.ptyText())
	case name == "bytes" && len(args) >= 1:
		n, err := strconv.Atoi(args[0])
		if err != nil {
			fmt.Fprintf(errw, "bytes: %v\n", err)
			return 2
		}
		w := out
		if len(args) > 1 && args[1] == "stderr" {
			w = errw
		}
		for n > 0 {
			chunk := pattern
			if n < len(chunk) {
				chunk = chunk[:n]
			}
			if _, err := w.Write(chunk); err != nil {
				return 1
			}
			n -= len(chunk)
		}
	case name == "check" && in != nil && len(args) == 1:
		n, err := strconv.Atoi(args[0])
		if err != nil {
			fmt.Fprintf(errw, "check: %v\n", err)
			return 2
		}
		status, message := check(in, n)
		io.WriteString(out, message)
		return status
	case name == "exit":
		if len(args) > 0 {
			n, _ := strconv.Atoi(args[0])
			return uint32(n)
		}
	default:
		fmt.Fprintf(errw, "unknown command: %s\n", name)
		return 127
	}
	return 0
}

// crlf turns "\n" into "\r\n", as a pty's output processing would.
type crlf struct{ w io.Writer }

func (c crlf) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}

// shell is a prompt shell: echoes what is typed on a pty, runs a line at CR or LF.
func (s *session) shell() uint32 {
	var out, errw io.Writer = s.ch, s.ch.Stderr()
	hasPty := s.ptyText() != "none"
	if hasPty {
		out, errw = crlf{out}, crlf{errw}
	}
	io.WriteString(out, "interop$ ")
	var line []byte
	buf := make([]byte, 4096)
	for {
		n, err := s.ch.Read(buf)
		for _, c := range buf[:n] {
			if c != '\r' && c != '\n' {
				if hasPty {
					s.ch.Write([]byte{c})
				}
				line = append(line, c)
				continue
			}
			if hasPty {
				io.WriteString(s.ch, "\r\n")
			}
			words := strings.Fields(string(line))
			line = line[:0]
			if len(words) > 0 && words[0] == "exit" {
				return s.run(strings.Join(words, " "), nil, out, errw)
			}
			s.run(strings.Join(words, " "), nil, out, errw)
			io.WriteString(out, "interop$ ")
		}
		if err != nil {
			return 0
		}
	}
}

func (s *session) serve(requests <-chan *ssh.Request) {
	defer s.ch.Close()
	for req := range requests {
		switch req.Type {
		case "pty-req":
			var p struct {
				Term                      string
				Cols, Rows, Width, Height uint32
				Modes                     string
			}
			ok := ssh.Unmarshal(req.Payload, &p) == nil
			if ok {
				s.mu.Lock()
				s.pty = &ptyInfo{p.Term, p.Cols, p.Rows}
				s.mu.Unlock()
			}
			req.Reply(ok, nil)
		case "window-change":
			var w struct{ Cols, Rows, Width, Height uint32 }
			if ssh.Unmarshal(req.Payload, &w) == nil {
				s.mu.Lock()
				if s.pty != nil {
					s.pty.cols, s.pty.rows = w.Cols, w.Rows
				}
				s.mu.Unlock()
			}
			req.Reply(true, nil)
		case "env":
			req.Reply(true, nil)
		case "shell", "exec":
			var command string
			if req.Type == "exec" {
				var e struct{ Command string }
				if ssh.Unmarshal(req.Payload, &e) != nil {
					req.Reply(false, nil)
					continue
				}
				command = e.Command
			}
			req.Reply(true, nil)
			go func(isShell bool) {
				var status uint32
				if isShell {
					status = s.shell()
				} else {
					status = s.run(command, s.ch, s.ch, s.ch.Stderr())
				}
				st := make([]byte, 4)
				binary.BigEndian.PutUint32(st, status)
				s.ch.SendRequest("exit-status", false, st)
				s.ch.CloseWrite()
				s.ch.Close()
			}(req.Type == "shell")
		default:
			req.Reply(false, nil)
		}
	}
}

func serveConn(conn net.Conn, config *ssh.ServerConfig) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, config)
	if err != nil {
		log.Printf("handshake: %v", err)
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only session channels")
			continue
		}
		ch, requests, err := nc.Accept()
		if err != nil {
			continue
		}
		s := &session{user: sc.User(), method: sc.Permissions.Extensions["method"], ch: ch}
		go s.serve(requests)
	}
}

func main() {
	log.SetFlags(0)
	password := os.Getenv("INTEROP_PASSWORD")
	pubText, err := os.ReadFile(os.Getenv("INTEROP_AUTHORIZED_KEY"))
	if err != nil {
		log.Fatal(err)
	}
	var authorized [][]byte
	for len(bytes.TrimSpace(pubText)) > 0 {
		key, _, _, rest, err := ssh.ParseAuthorizedKey(pubText)
		if err != nil {
			log.Fatal(err)
		}
		authorized = append(authorized, key.Marshal())
		pubText = rest
	}
	config := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if string(pw) == password {
				return &ssh.Permissions{Extensions: map[string]string{"method": "password"}}, nil
			}
			return nil, fmt.Errorf("wrong password for %q", c.User())
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			for _, blob := range authorized {
				if bytes.Equal(key.Marshal(), blob) {
					return &ssh.Permissions{Extensions: map[string]string{"method": "publickey"}}, nil
				}
			}
			return nil, fmt.Errorf("unknown key for %q", c.User())
		},
	}
	for _, path := range strings.Split(os.Getenv("INTEROP_HOST_KEYS"), ":") {
		pem, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		signer, err := ssh.ParsePrivateKey(pem)
		if err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		config.AddHostKey(signer)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("LISTENING %d\n", listener.Addr().(*net.TCPAddr).Port)
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	for {
		conn, err := listener.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serveConn(conn, config)
	}
}
