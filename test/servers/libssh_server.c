/*
 * An SSH server on libssh (Debian's libssh-dev), for sshtrace's interop tests. The harness
 * compiles it at test time:
 *
 *   cc -O2 -Wall -Wno-deprecated-declarations -o .cache/interop/libssh_server \
 *      test/servers/libssh_server.c -lssh
 *
 * It follows the contract of every server in test/servers/ (see
 * test/helpers/independent_servers.ts): listens on 127.0.0.1, a free port, prints
 * `LISTENING <port>` once ready; reads INTEROP_HOST_KEYS (':'-separated OpenSSH private key
 * files), INTEROP_PASSWORD and INTEROP_AUTHORIZED_KEY (authorized_keys lines) from the
 * environment; runs the commands echo WORDS, whoami, pty, bytes N [stderr] (byte i is i % 251),
 * check N (stdin is N bytes of that pattern: prints `ok N`) and exit N, by exec or from a prompt
 * shell on a pty. It exits when its stdin closes (the test process is gone). One process per connection (fork), libssh's message API
 * with its default settings (so its default algorithm lists go on the wire).
 */
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
    ssh_session session;
    ssh_channel channel;
    char user[256];
    const char *method;
    char term[64];
    int cols, rows, pty;
};

typedef int (*writer)(ssh_channel, const void *, uint32_t);

#define MAX_KEYS 16
static ssh_key authorized[MAX_KEYS];
static int authorized_count;

/* Reads authorized_keys lines ("type base64 [comment]"). */
static int load_authorized(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[16384];
    while (fgets(line, sizeof line, f) && authorized_count < MAX_KEYS) {
        char *type = strtok(line, " \t\r\n");
        char *b64 = strtok(NULL, " \t\r\n");
        if (!type || !b64 || type[0] == '#') continue;
        if (ssh_pki_import_pubkey_base64(b64, ssh_key_type_from_name(type),
                                         &authorized[authorized_count]) == SSH_OK)
            authorized_count++;
    }
    fclose(f);
    return authorized_count > 0 ? 0 : -1;
}

static int is_authorized(ssh_key key) {
    for (int i = 0; i < authorized_count; i++)
        if (ssh_key_cmp(key, authorized[i], SSH_KEY_CMP_PUBLIC) == 0) return 1;
    return 0;
}

/* A pty's output processing turns "\n" into "\r\n". */
static int put(struct conn *c, writer w, const char *text) {
    if (!c->pty) return w(c->channel, text, strlen(text));
    for (const char *p = text; *p; p++) {
        if (*p == '\n' && w(c->channel, "\r\n", 2) < 0) return -1;
        if (*p != '\n' && w(c->channel, p, 1) < 0) return -1;
    }
    return 0;
}

static int pattern(struct conn *c, writer w, long n) {
    static unsigned char chunk[251 * 256];
    for (size_t i = 0; i < sizeof chunk; i++) chunk[i] = (unsigned char)(i % 251);
    while (n > 0) {
        uint32_t len = n < (long)sizeof chunk ? (uint32_t)n : (uint32_t)sizeof chunk;
        if (w(c->channel, chunk, len) != (int)len) return -1;
        n -= len;
    }
    return 0;
}

/* Reads stdin to its end: was it n bytes of the pattern? */
static int check(struct conn *c, long n) {
    char buf[32768], out[128];
    long offset = 0;
    int n_read;
    while ((n_read = ssh_channel_read(c->channel, buf, sizeof buf, 0)) > 0) {
        for (int i = 0; i < n_read; i++, offset++) {
            if ((unsigned char)buf[i] != offset % 251) {
                snprintf(out, sizeof out, "mismatch after byte %ld\n", offset);
                put(c, ssh_channel_write, out);
                return 1;
            }
        }
    }
    if (offset != n) {
        snprintf(out, sizeof out, "got %ld bytes\n", offset);
        put(c, ssh_channel_write, out);
        return 1;
    }
    snprintf(out, sizeof out, "ok %ld\n", offset);
    put(c, ssh_channel_write, out);
    return 0;
}

/* Runs one command line (stdin only for exec); returns its exit status. */
static int run(struct conn *c, const char *command, int exec) {
    char line[1024], out[1400];
    snprintf(line, sizeof line, "%s", command);
    char *words[8];
    int n = 0;
    for (char *w = strtok(line, " \t"); w && n < 8; w = strtok(NULL, " \t")) words[n++] = w;
    if (n == 0) return 0;
    if (strcmp(words[0], "echo") == 0) {
        out[0] = '\0';
        for (int i = 1; i < n; i++) {
            strncat(out, words[i], sizeof out - strlen(out) - 2);
            if (i + 1 < n) strncat(out, " ", sizeof out - strlen(out) - 2);
        }
        strcat(out, "\n");
        put(c, ssh_channel_write, out);
    } else if (strcmp(words[0], "whoami") == 0) {
        snprintf(out, sizeof out, "%s %s\n", c->user, c->method);
        put(c, ssh_channel_write, out);
    } else if (strcmp(words[0], "pty") == 0) {
        if (c->pty) snprintf(out, sizeof out, "%s %dx%d\n", c->term, c->cols, c->rows);
        else snprintf(out, sizeof out, "none\n");
        put(c, ssh_channel_write, out);
    } else if (strcmp(words[0], "bytes") == 0 && n >= 2) {
        int to_stderr = n >= 3 && strcmp(words[2], "stderr") == 0;
        if (pattern(c, to_stderr ? ssh_channel_write_stderr : ssh_channel_write,
                    atol(words[1])) < 0)
            return 1;
    } else if (strcmp(words[0], "check") == 0 && exec && n == 2) {
        return check(c, atol(words[1]));
    } else if (strcmp(words[0], "exit") == 0) {
        return n >= 2 ? atoi(words[1]) : 0;
    } else {
        snprintf(out, sizeof out, "unknown command: %s\n", words[0]);
        put(c, ssh_channel_write_stderr, out);
        return 127;
    }
    return 0;
}

/* The prompt shell: echoes what is typed (on a pty), runs a line at CR or LF. */
static int shell(struct conn *c) {
    char line[1024], buf[4096];
    size_t len = 0;
    put(c, ssh_channel_write, "interop$ ");
    for (;;) {
        int n = ssh_channel_read(c->channel, buf, sizeof buf, 0);
        if (n <= 0) return 0; /* EOF or error */
        for (int i = 0; i < n; i++) {
            if (buf[i] != '\r' && buf[i] != '\n') {
                if (c->pty) ssh_channel_write(c->channel, &buf[i], 1);
                if (len < sizeof line - 1) line[len++] = buf[i];
                continue;
            }
            if (c->pty) ssh_channel_write(c->channel, "\r\n", 2);
            line[len] = '\0';
            len = 0;
            if (strncmp(line, "exit", 4) == 0 && (line[4] == '\0' || line[4] == ' '))
                return run(c, line, 0);
            run(c, line, 0);
            put(c, ssh_channel_write, "interop$ ");
        }
    }
}

static int authenticate(struct conn *c, const char *password) {
    ssh_set_auth_methods(c->session, SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY);
    ssh_message msg;
    while ((msg = ssh_message_get(c->session)) != NULL) {
        int done = 0;
        if (ssh_message_type(msg) == SSH_REQUEST_AUTH) {
            int sub = ssh_message_subtype(msg);
            if (sub == SSH_AUTH_METHOD_PASSWORD &&
                strcmp(ssh_message_auth_password(msg), password) == 0) {
                c->method = "password";
                done = 1;
            } else if (sub == SSH_AUTH_METHOD_PUBLICKEY &&
                       is_authorized(ssh_message_auth_pubkey(msg))) {
                /* libssh verified the signature when the state is VALID. */
                switch (ssh_message_auth_publickey_state(msg)) {
                case SSH_PUBLICKEY_STATE_NONE:
                    ssh_message_auth_reply_pk_ok_simple(msg);
                    ssh_message_free(msg);
                    continue;
                case SSH_PUBLICKEY_STATE_VALID:
                    c->method = "publickey";
                    done = 1;
                    break;
                default:
                    break;
                }
            }
            if (done) {
                snprintf(c->user, sizeof c->user, "%s", ssh_message_auth_user(msg));
                ssh_message_auth_reply_success(msg, 0);
                ssh_message_free(msg);
                return 0;
            }
            ssh_message_auth_set_methods(msg, SSH_AUTH_METHOD_PASSWORD |
                                                  SSH_AUTH_METHOD_PUBLICKEY);
        }
        ssh_message_reply_default(msg);
        ssh_message_free(msg);
    }
    return -1;
}

/* Serves one connection: auth, one session channel, its requests, then waits for the client. */
static void serve(ssh_session session, const char *password) {
    struct conn c = {.session = session, .method = "none"};
    if (ssh_handle_key_exchange(session) != SSH_OK) {
        fprintf(stderr, "key exchange: %s\n", ssh_get_error(session));
        return;
    }
    if (authenticate(&c, password) < 0) {
        fprintf(stderr, "auth: %s\n", ssh_get_error(session));
        return;
    }
    ssh_message msg;
    char *command = NULL;
    int started = 0;
    while (!started && (msg = ssh_message_get(session)) != NULL) {
        int type = ssh_message_type(msg), sub = ssh_message_subtype(msg);
        if (c.channel == NULL && type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_SESSION) {
            c.channel = ssh_message_channel_request_open_reply_accept(msg);
        } else if (c.channel != NULL && type == SSH_REQUEST_CHANNEL) {
            if (sub == SSH_CHANNEL_REQUEST_PTY) {
                snprintf(c.term, sizeof c.term, "%s", ssh_message_channel_request_pty_term(msg));
                c.cols = ssh_message_channel_request_pty_width(msg);
                c.rows = ssh_message_channel_request_pty_height(msg);
                c.pty = 1;
                ssh_message_channel_request_reply_success(msg);
            } else if (sub == SSH_CHANNEL_REQUEST_ENV) {
                ssh_message_channel_request_reply_success(msg);
            } else if (sub == SSH_CHANNEL_REQUEST_SHELL || sub == SSH_CHANNEL_REQUEST_EXEC) {
                if (sub == SSH_CHANNEL_REQUEST_EXEC)
                    command = strdup(ssh_message_channel_request_command(msg));
                ssh_message_channel_request_reply_success(msg);
                started = 1;
            } else {
                ssh_message_reply_default(msg);
            }
        } else {
            ssh_message_reply_default(msg);
        }
        ssh_message_free(msg);
    }
    if (!started) return;
    int status = command ? run(&c, command, 1) : shell(&c);
    free(command);
    ssh_channel_request_send_exit_status(c.channel, status);
    ssh_channel_send_eof(c.channel);
    ssh_channel_close(c.channel);
    /* The client closes the channel and disconnects; anything else it asks for is refused. */
    while ((msg = ssh_message_get(session)) != NULL) {
        ssh_message_reply_default(msg);
        ssh_message_free(msg);
    }
}

int main(void) {
    const char *keys = getenv("INTEROP_HOST_KEYS"), *password = getenv("INTEROP_PASSWORD"),
               *pubfile = getenv("INTEROP_AUTHORIZED_KEY");
    if (!keys || !password || !pubfile) {
        fprintf(stderr, "INTEROP_HOST_KEYS, INTEROP_PASSWORD, INTEROP_AUTHORIZED_KEY needed\n");
        return 2;
    }
    if (load_authorized(pubfile) < 0) {
        fprintf(stderr, "no public key read from %s\n", pubfile);
        return 2;
    }
    ssh_init();
    ssh_bind bind = ssh_bind_new();
    char *list = strdup(keys);
    for (char *path = strtok(list, ":"); path; path = strtok(NULL, ":")) {
        if (ssh_bind_options_set(bind, SSH_BIND_OPTIONS_HOSTKEY, path) != SSH_OK) {
            fprintf(stderr, "host key %s: %s\n", path, ssh_get_error(bind));
            return 2;
        }
    }
    int port = 0;
    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDADDR, "127.0.0.1");
    ssh_bind_options_set(bind, SSH_BIND_OPTIONS_BINDPORT, &port);
    if (ssh_bind_listen(bind) != SSH_OK) {
        fprintf(stderr, "listen: %s\n", ssh_get_error(bind));
        return 2;
    }
    struct sockaddr_in addr;
    socklen_t addrlen = sizeof addr;
    getsockname(ssh_bind_get_fd(bind), (struct sockaddr *)&addr, &addrlen);
    printf("LISTENING %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
    struct pollfd fds[2] = {{.fd = ssh_bind_get_fd(bind), .events = POLLIN},
                            {.fd = 0, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) continue; /* EINTR */
        if (fds[1].revents) {
            char buf[256];
            if (read(0, buf, sizeof buf) <= 0) return 0;
        }
        if (!(fds[0].revents & POLLIN)) continue;
        ssh_session session = ssh_new();
        if (ssh_bind_accept(bind, session) != SSH_OK) {
            fprintf(stderr, "accept: %s\n", ssh_get_error(bind));
            ssh_free(session);
            continue;
        }
        pid_t pid = fork();
        if (pid == 0) {
            signal(SIGCHLD, SIG_DFL);
            alarm(300); /* a connection never outlives a test run */
            ssh_bind_free(bind);
            serve(session, password);
            ssh_disconnect(session);
            ssh_free(session);
            _exit(0);
        }
        ssh_free(session); /* the child owns the connection now */
    }
}
