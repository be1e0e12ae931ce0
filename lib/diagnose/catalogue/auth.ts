/**
 * The failure catalogue's entries for authentication failures (stage `auth`).
 * @module
 */

import { riskOf } from "../../algorithms/registry.ts";
import { libraryOptions, libraryTimeout, raw } from "../audiences.ts";
import { list, refineFlood, strings } from "./_helpers.ts";
import type { FailureContext, Refinement, StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const AUTH = {
  "auth.service-refused": {
    stage: "auth",
    title: "the server refused the user authentication service",
    explanation: "After the key exchange the client asks for the `ssh-userauth` service; the " +
      "server said no or closed. Some servers do this when the client's address is not allowed " +
      "to log in.",
    fix: "check the server's logs and access rules",
    opensshFix: null,
  },
  "auth.connection-closed": {
    stage: "auth",
    title: "the server hung up during authentication",
    explanation: "The server closed without a reason, typically after too many failed attempts " +
      "(MaxAuthTries), when the user is not allowed (AllowUsers, DenyUsers), by fail2ban, or on an " +
      "AAA (RADIUS/TACACS+) error.",
    fix: "-i KEY -o IdentitiesOnly=yes (fewer attempts), and check the server's auth logs",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
  },
  "auth.protocol": {
    stage: "auth",
    title: "the server broke the authentication protocol",
    explanation: "The server sent a message that makes no sense at this point of the " +
      "authentication (named above): a broken server implementation.",
    fix: "-o PreferredAuthentications=password (or another method) to avoid the broken one",
    opensshFix: "-o PreferredAuthentications=password",
    libraryFix: libraryOptions({ auth: { methods: ["password"] } }),
  },
  "auth.too-many-failures": {
    stage: "auth",
    title: "too many authentication failures",
    explanation: "Servers count every key offered as a failed attempt (OpenSSH MaxAuthTries, 6 " +
      "by default). With several keys in the agent or ~/.ssh, the server hangs up before the right " +
      "key or the password is tried.",
    fix: "-i KEY -o IdentitiesOnly=yes (offer only that key)",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
  },
  "auth.partial-needs-method": {
    stage: "auth",
    title: "partial success: the server requires another method as well",
    explanation: "The first method was accepted, but the server demands a second one " +
      "(multi-factor, AuthenticationMethods) that we could not provide.",
    fix: "--password-env VAR (for password/keyboard-interactive) or -i KEY",
    opensshFix: "-o PreferredAuthentications=publickey,password",
    refine: (c) => {
      const methods = strings(c.details, "methods");
      if (!methods.length) return {};
      return {
        explanation: "The first method was accepted, but the server demands another one " +
          `(multi-factor, AuthenticationMethods): one of ${list(methods)}, which we could not ` +
          "provide.",
        fix: methods.some((m) => m === "password" || m === "keyboard-interactive")
          ? "--password-env VAR (the second factor is a password or prompt)"
          : methods.includes("publickey")
          ? "-i KEY with the second key"
          : null,
      };
    },
  },
  "auth.password-rejected": {
    stage: "auth",
    title: "the password was rejected",
    explanation: "The server said no to this user and password: a wrong password or user name, " +
      "a locked or expired account, or the AAA server (RADIUS/TACACS+) refusing. The server " +
      "gives no more detail on purpose: its logs do.",
    fix: "the right user (USER@HOST) and the right password (--password-env VAR)",
    opensshFix: "-l USER",
  },
  "auth.kbdint-failed": {
    stage: "auth",
    title: "keyboard-interactive authentication failed",
    explanation: "The server's prompts (password, one-time code) were answered, and it said no: " +
      "a wrong password or code, or a locked account.",
    fix: "the right user (USER@HOST) and the right answers (--password-env VAR for a password)",
    opensshFix: "-o PreferredAuthentications=keyboard-interactive -l USER",
  },
  "auth.batch-mode-needs-prompt": {
    stage: "auth",
    title: "a prompt is needed, and batch mode does not prompt",
    explanation:
      "The server wants a password or another answer typed at a prompt, and batch mode " +
      "forbids prompting.",
    fix: "--password-env VAR (or --password-file FILE), or run without --batch",
    opensshFix: "-o BatchMode=no",
    libraryFix: libraryOptions({ auth: { batchMode: false } }),
  },
  "auth.key-rejected": {
    stage: "auth",
    title: "the server rejected the key(s) offered",
    explanation: "None of the public keys offered is authorized for this user on the server " +
      "(~/.ssh/authorized_keys of that user, or the device's user/key configuration).",
    fix: "-i KEY with the authorized key, or add the public key to the user's authorized_keys",
    opensshFix: "-o IdentitiesOnly=yes -i KEY",
    refine: (c) => {
      if (c.details.acceptsPublickey !== false) return {};
      return {
        title: "the server rejected the key(s) and no longer accepts public keys",
        explanation: "The keys offered were refused, and the server now offers only " +
          `${list(strings(c.details, "methods"))}: it does not accept public keys for this user ` +
          "(any more).",
        fix: "--password-env VAR (log in with a password)",
        opensshFix: "-o PreferredAuthentications=password",
      };
    },
  },
  "auth.no-signature-algorithm": {
    stage: "auth",
    title: "no RSA signature algorithm in common for the key",
    explanation: "The server verifies RSA keys only with ssh-rsa (SHA-1) signatures (it does not " +
      "announce rsa-sha2-256/512), and SHA-1 signatures are off by default, as in OpenSSH 8.8+.",
    fix: "--legacy (allows ssh-rsa signatures), or use an Ed25519 or ECDSA key",
    opensshFix: "-o PubkeyAcceptedAlgorithms=+ssh-rsa",
    libraryFix: libraryOptions({ auth: { legacy: true } }),
    securityCost: riskOf("ssh-rsa") ?? "SHA-1 signatures",
  },
  "auth.rsa-sha2-refused": {
    stage: "auth",
    title: "RSA key refused with rsa-sha2 signatures by a server that announces none",
    explanation: "The server sent no server-sig-algs (RFC 8308), so sshtrace signed with " +
      "rsa-sha2-256 as RFC 8332 advises, and the server refused it. Servers older than " +
      "RFC 8332 (OpenSSH before 7.2, many switch firmwares) verify RSA keys only with ssh-rsa " +
      "(SHA-1) signatures. If the key is simply not authorized, the legacy fix changes nothing.",
    fix: "--legacy (allows ssh-rsa signatures), or use an Ed25519 or ECDSA key; check the key " +
      "is in the user's authorized keys",
    opensshFix: "-o PubkeyAcceptedAlgorithms=+ssh-rsa",
    libraryFix: libraryOptions({ auth: { legacy: true } }),
    securityCost: riskOf("ssh-rsa") ?? "SHA-1 signatures",
  },
  "auth.no-common-method": {
    stage: "auth",
    title: "no authentication method in common",
    explanation: "The server offers methods we cannot use here.",
    fix: null,
    opensshFix: null,
    refine: refineNoMethod,
  },
  "auth.password-change-requested": {
    stage: "auth",
    title: "the password has expired and must be changed",
    explanation: "The server accepted the password but demands a new one before logging in; " +
      "sshtrace does not change passwords.",
    fix: "change the password on the device or with an interactive client, then retry",
    opensshFix: "ssh USER@HOST (OpenSSH prompts for the new password)",
  },
  "auth.timeout": {
    stage: "auth",
    title: "the server was too slow to answer during authentication",
    explanation: "Authentication waits on the server's back end: PAM, LDAP, RADIUS or TACACS+ " +
      "servers that time out, or a reverse DNS lookup of the client (OpenSSH `UseDNS`).",
    fix: "--timeout 30; check the server's AAA servers and DNS",
    opensshFix: "-o ConnectTimeout=30",
    libraryFix: libraryTimeout(30),
    refine: (c) => refineFlood(c),
  },
} satisfies StageEntries<"auth">;

function refineNoMethod(c: FailureContext<"auth.no-common-method">): Refinement {
  const offered = strings(c.details, "methods");
  const ours = strings(c.details, "ours");
  const known = ["publickey", "password", "keyboard-interactive"];
  const implemented = strings(c.details, "implemented");
  const supported = offered.filter((m) => (implemented.length ? implemented : known).includes(m));
  const allowed = strings(c.details, "allowed");
  const title = `no authentication method in common: the server offers ${list(offered)}; ` +
    `we can do ${ours.length ? ours.join(", ") : "nothing"}`;
  const usable = offered.filter((m) => known.includes(m));
  const fixes: string[] = [];
  const auth: Record<string, unknown> = {};
  if (offered.includes("publickey") && !ours.includes("publickey")) {
    fixes.push("pass a key with -i FILE");
    auth.signers = raw("SIGNERS");
  }
  const prompted = (m: string) => m === "password" || m === "keyboard-interactive";
  if (offered.some(prompted) && !ours.some(prompted)) {
    fixes.push("give a password with --password-env VAR");
    auth.password = raw("PASSWORD_SOURCE");
  }
  const notAllowed = allowed.length ? supported.filter((m) => !allowed.includes(m)) : [];
  if (offered.length && !supported.length) {
    fixes.push(`the server offers only ${list(offered)}, which sshtrace does not support`);
  } else if (notAllowed.length) {
    fixes.push(`allow ${notAllowed.join(", ")} in the methods`);
    auth.methods = [...allowed, ...notAllowed];
  }
  const ssh = usable.length ? `-o PreferredAuthentications=${usable.join(",")}` : null;
  const explanation = `The server accepts ${list(offered)} for this user; sshtrace had ` +
    `${ours.length ? ours.join(", ") : "no key, password or prompt"} ready.` +
    (offered.length && !usable.length
      ? ` sshtrace implements none of the server's methods (it does publickey, ` +
        "keyboard-interactive and password); GSSAPI/hostbased logins need OpenSSH."
      : usable.length
      ? ` Give sshtrace what ${usable.join(" or ")} needs (a key with -i, a password with ` +
        "--password-env)."
      : "");
  return {
    title,
    explanation,
    fix: fixes.length ? fixes.join("; or ") : null,
    opensshFix: ssh,
    libraryFix: Object.keys(auth).length ? libraryOptions({ auth }) : null,
  };
}
