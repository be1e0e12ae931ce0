/**
 * The failure catalogue's entries for key exchange failures (stage `kex`): no common algorithm, bad signatures, hang-ups.
 * @module
 */

import { allNames, type ListCategory, riskOf } from "../../algorithms/registry.ts";
import type { TraceEvent } from "../../trace.ts";
import type { Category, Decision } from "../../types.ts";
import { enableFlags, libraryOptions, libraryTimeout, raw } from "../audiences.ts";
import {
  capital,
  duringRekey,
  LEGACY_COST,
  list,
  negotiatedDecisions,
  num,
  refineFlood,
  str,
  strings,
} from "./_helpers.ts";
import { LEGACY_HARM_ORDER, LIST_OF, planEnable } from "./planner.ts";
import type { CatalogueEntry, FailureContext, Refinement, StageEntries } from "./types.ts";

/** Catalogue entries of this stage, keyed by error code. */
export const KEX = {
  "kex.no-common-kex": noCommon("kex", "key exchange method"),
  "kex.no-common-hostKey": noCommon("hostKey", "host key algorithm"),
  "kex.no-common-cipherC2S": noCommon("cipher", "cipher (client to server)"),
  "kex.no-common-cipherS2C": noCommon("cipher", "cipher (server to client)"),
  "kex.no-common-macC2S": noCommon("mac", "MAC (client to server)"),
  "kex.no-common-macS2C": noCommon("mac", "MAC (server to client)"),
  "kex.no-common-compressionC2S": noCommon("compression", "compression (client to server)"),
  "kex.no-common-compressionS2C": noCommon("compression", "compression (server to client)"),
  "kex.bad-kexinit": {
    stage: "kex",
    title: "the server's KEXINIT is malformed",
    explanation: "The server's list of algorithms could not be decoded: a broken server or " +
      "something in the path altering the data.",
    fix: "-vv to see the packet; report it with the trace",
    opensshFix: "-vvv",
  },
  "kex.strict-violation": {
    stage: "kex",
    title: "strict key exchange violated (possible Terrapin attack)",
    explanation: "The server announced strict kex (the Terrapin countermeasure, CVE-2023-48795) " +
      "but a message arrived that strict kex forbids during the handshake. Either someone in " +
      "the path is injecting packets (the Terrapin attack), or the server's strict-kex " +
      "implementation is buggy.",
    fix: "try from another network to rule out interception; if the server is at fault, " +
      "update its firmware",
    opensshFix: null,
  },
  "kex.unexpected-message": {
    stage: "kex",
    title: "the server sent a message out of order during the key exchange",
    explanation:
      "During the key exchange only key exchange messages are allowed; the server sent " +
      "another one (named above). A broken or unusual server implementation.",
    fix: "--kex with another method (e.g. --kex ^diffie-hellman-group14-sha256)",
    opensshFix: "-o KexAlgorithms=^diffie-hellman-group14-sha256",
    libraryFix: libraryOptions({ algorithms: { kex: ["^diffie-hellman-group14-sha256"] } }),
  },
  "kex.exchange-failed": {
    stage: "kex",
    title: "the key exchange computation failed",
    explanation: "The server's key exchange values were refused (out of range, off the curve or " +
      "malformed): a server bug with this method, or tampering.",
    fix: "--kex with another method",
    opensshFix: "-o KexAlgorithms=...",
    refine: (c) => {
      const alg = str(c.details, "algorithm");
      if (!alg) return {};
      return {
        title: `key exchange ${alg} failed`,
        explanation: `The server's ${alg} values were refused (out of range, off the curve or ` +
          "malformed): a server bug with this method, or tampering. Another method usually works.",
        fix: `--kex -${alg}`,
        opensshFix: `-o KexAlgorithms=-${alg}`,
        libraryFix: libraryOptions({ algorithms: { kex: [`-${alg}`] } }),
      };
    },
  },
  "kex.dh-group-too-small": {
    stage: "kex",
    title: "the server's group-exchange group is smaller than asked",
    explanation: "The server answered a group-exchange request with a Diffie-Hellman group " +
      "below the minimum asked for (2048 bits): old firmware with a single 1024-bit moduli " +
      "entry. Another key exchange method avoids it; accepting the group (--legacy lowers the " +
      "minimum to 1024 bits) works but weakens the connection.",
    fix: "--kex -diffie-hellman-group-exchange-*",
    opensshFix: "-o KexAlgorithms=-diffie-hellman-group-exchange-*",
    libraryFix: libraryOptions({ algorithms: { kex: ["-diffie-hellman-group-exchange-*"] } }),
    refine: (c) => {
      const bits = num(c.details, "bits");
      const min = num(c.details, "min");
      const title = bits && min
        ? `the server's group-exchange group has ${bits} bits, below the ${min} asked for`
        : undefined;
      let theirs: string[] = [];
      for (const e of c.events) if (e.type === "kexinit-received") theirs = e.lists.kex;
      const others = theirs.filter((n) =>
        allNames("kex").includes(n) && !n.startsWith("diffie-hellman-group-exchange-")
      );
      if (!theirs.length || others.length) return title ? { title } : {};
      // Group exchange is all the server offers: only accepting the small group works.
      return {
        ...(title ? { title } : {}),
        fix: "--legacy (accepts 1024-bit groups; better: a 2048-bit or larger group on the server)",
        opensshFix: null,
        libraryFix: libraryOptions({ legacy: true }),
        securityCost: "a 1024-bit Diffie-Hellman group is within reach of precomputation (Logjam)",
        explanation: "The server answered a group-exchange request with a Diffie-Hellman group " +
          "below the minimum asked for, and offers no other key exchange method. OpenSSH's ssh " +
          "refuses such groups with no setting to change it; sshtrace's --legacy accepts them.",
      };
    },
  },
  "kex.bad-host-key": {
    stage: "kex",
    title: "the server's host key is malformed",
    explanation: "The host key the server sent could not be decoded. Another host key type may " +
      "work.",
    fix: "--hostkeys with another type (e.g. --hostkeys ^ssh-ed25519)",
    opensshFix: "-o HostKeyAlgorithms=^ssh-ed25519",
    libraryFix: libraryOptions({ algorithms: { hostKey: ["^ssh-ed25519"] } }),
  },
  "kex.host-key-too-small": {
    stage: "kex",
    title: "the server's RSA host key is too small",
    explanation: "RSA keys under 1024 bits can be factored with public tools; OpenSSH refuses " +
      "them and so does sshtrace (RequiredRSASize can only raise the floor). The device needs a " +
      "new host key: most switches make one with a command such as `crypto key generate rsa " +
      "modulus 2048` or `public-key local create rsa`.",
    fix: "regenerate the server's host key (RSA 2048+ or Ed25519); meanwhile try another key " +
      "type the server may have: --hostkeys ^ssh-ed25519,ecdsa-sha2-nistp256",
    opensshFix: "-o HostKeyAlgorithms=^ssh-ed25519,ecdsa-sha2-nistp256",
    libraryFix: libraryOptions({ algorithms: { hostKey: ["^ssh-ed25519,ecdsa-sha2-nistp256"] } }),
    refine: (c) => {
      const bits = num(c.details, "bits");
      const required = num(c.details, "required");
      return bits && required
        ? { title: `the server's RSA host key has ${bits} bits (at least ${required} required)` }
        : {};
    },
  },
  "kex.bad-signature": {
    stage: "kex",
    title: "the server's host key signature does not verify",
    explanation: "The server must sign the key exchange with its host key; this signature is " +
      "wrong. Some old servers announce rsa-sha2-256/512 but sign with SHA-1 or mishandle one " +
      "key type; it can also be tampering.",
    fix: "--hostkeys with another algorithm",
    opensshFix: "-o HostKeyAlgorithms=...",
    refine: (c) => {
      const alg = str(c.details, "algorithm");
      if (!alg) return {};
      return {
        title: `the server's ${alg} host key signature does not verify`,
        fix: `--hostkeys -${alg}`,
        opensshFix: `-o HostKeyAlgorithms=-${alg}`,
        libraryFix: libraryOptions({ algorithms: { hostKey: [`-${alg}`] } }),
      };
    },
  },
  "kex.closed": {
    stage: "kex",
    title: "the server hung up during the key exchange",
    explanation: "Many servers and switches that find no algorithm in common with our offer just " +
      "close the connection instead of saying so. Compare both lists (-v). Offering legacy " +
      "algorithms too shows whether the server needs one.",
    fix:
      "--legacy (then enable only the one algorithm needed with --kex/--ciphers/--macs/--hostkeys)",
    opensshFix: "-o KexAlgorithms=+diffie-hellman-group14-sha1 -o HostKeyAlgorithms=+ssh-rsa",
    libraryFix: libraryOptions({ legacy: true }),
    securityCost: LEGACY_COST,
    refine: refineKexStage,
  },
  "kex.timeout": {
    stage: "kex",
    title: "the server stopped answering during the key exchange",
    explanation: "Old switches and small CPUs can take many seconds for a large Diffie-Hellman " +
      "group (4096 or 8192 bits). A cheaper method (curve25519, or a 2048-bit group) or a longer " +
      "limit helps.",
    fix: "--timeout 60",
    opensshFix: "-o ConnectTimeout=60",
    libraryFix: libraryTimeout(60),
    refine: (c) => {
      const flood = refineFlood(c);
      if (flood.title) return flood;
      const chosen = negotiatedDecisions(c.events).find((d) => d.category === "kex")?.chosen ??
        null;
      const cheaper = cheaperKex(c.events, chosen);
      const base = refineKexStage(c);
      if (!cheaper) return base;
      const large = chosen !== null && LARGE_REPLY_KEX.includes(chosen);
      return {
        ...base,
        ...(large ? MTU_LARGE_REPLY(chosen) : {}),
        fix: `--kex ^${cheaper} (or --timeout 60)`,
        opensshFix: `-o KexAlgorithms=^${cheaper} -o ConnectTimeout=60`,
        libraryFix: libraryOptions({ algorithms: { kex: [`^${cheaper}`] }, timeoutMs: 60_000 }),
      };
    },
  },
} satisfies StageEntries<"kex">;

const CATEGORY_WORDS: Record<ListCategory, string> = {
  kex: "key exchange method",
  hostKey: "host key algorithm",
  cipher: "cipher",
  mac: "MAC",
  compression: "compression",
};

/** The refinement shared by every `kex.no-common-*` code. */
function refineNoCommon(ctx: FailureContext<`kex.no-common-${Category}`>): Refinement {
  const d = ctx.details;
  const all = Array.isArray(d.decisions) ? (d.decisions as Decision[]) : [];
  let failed = all.filter((x) => x && x.chosen === null && Array.isArray(x.theirs));
  if (!failed.length) {
    const category = str(d, "category") as Category | null;
    if (category && LIST_OF[category]) {
      failed = [{
        category,
        ours: strings(d, "ours"),
        theirs: strings(d, "theirs"),
        chosen: null,
        rule: "",
        firstChoiceMatch: false,
      }];
    }
  }
  if (!failed.length) return {};
  const plan = planEnable(failed);
  const lines: string[] = [];
  for (const category of plan.failed) {
    lines.push(
      `${capital(CATEGORY_WORDS[category])}: the server offers ${
        list(plan.theirs[category] ?? [])
      }; ` +
        `we offered ${list(plan.ours[category] ?? [])}.`,
    );
  }
  for (const category of plan.impossible) {
    lines.push(
      `sshtrace implements none of the ${CATEGORY_WORDS[category]}s this server offers ` +
        `(${list(plan.unimplemented[category] ?? [])}): the server's configuration must change ` +
        "(or use a client that implements one of them).",
    );
  }
  const names = plan.failed.map((c) => CATEGORY_WORDS[c]);
  const joined = names.length > 1
    ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`
    : names[0];
  const title = `no ${joined} in common with the server`;
  if (!plan.enable.length) {
    return {
      title,
      explanation: lines.join(" "),
      fix: null,
      opensshFix: null,
      libraryFix: null,
      securityCost: null,
      candidates: plan.candidates,
    };
  }
  const { fix, opensshFix, libraryFix } = enableFlags(plan.enable);
  const costs = plan.enable.filter((c) => c.risk).map((c) => `${c.algorithm}: ${c.risk}.`);
  const legacy = plan.enable.some((c) => c.status === "legacy");
  lines.push(
    `The smallest change that works: enable ${plan.enable.map((c) => c.algorithm).join(", ")}` +
      (legacy
        ? " (the least harmful of the legacy algorithms the server accepts; " +
          "better: modernise the server's configuration)."
        : "."),
  );
  return {
    title,
    explanation: lines.join(" "),
    fix,
    opensshFix,
    libraryFix,
    securityCost: costs.length ? costs.join(" ") : null,
    candidates: plan.candidates,
  };
}

// ---------------------------------------------------------------------------------------------
// Path MTU black holes: the version lines (small) pass, large packets are lost

/** Methods whose reply is larger than one 1500-byte frame with a host key and signature. */
const LARGE_REPLY_KEX = [
  "mlkem768x25519-sha256",
  "sntrup761x25519-sha512",
  "sntrup761x25519-sha512@openssh.com",
];

const MTU_CHECK = "check the path MTU (ping -M do -s 1472 HOST) and MSS clamping on the path";

/** A post-quantum exchange's reply (over 1 KiB of key material) never came. */
function MTU_LARGE_REPLY(chosen: string): Refinement {
  return {
    title: `the ${chosen} reply never arrived: large packets may be lost on the path`,
    explanation: `The ${chosen} reply carries over 1 KiB of key material plus the host key ` +
      "and signature: more than one frame. A path that drops large packets without an ICMP " +
      `answer (a path MTU black hole) stalls exactly here; a smaller exchange passes. ${
        capital(MTU_CHECK)
      }.`,
  };
}

// ---------------------------------------------------------------------------------------------
// Cheaper key exchange suggestions (slow DH on old CPUs)

/** Key exchange methods from cheapest to compute; used to suggest a faster one. */
export const CHEAP_KEX: readonly string[] = [
  "curve25519-sha256",
  "curve25519-sha256@libssh.org",
  "ecdh-sha2-nistp256",
  "ecdh-sha2-nistp384",
  "mlkem768x25519-sha256",
  "ecdh-sha2-nistp521",
  "diffie-hellman-group14-sha256",
];

/** The cheapest kex from the server's last KEXINIT (per the trace) that is cheaper than `chosen`. */
export function cheaperKex(events: readonly TraceEvent[], chosen: string | null): string | null {
  let theirs: string[] = [];
  for (const e of events) if (e.type === "kexinit-received") theirs = e.lists.kex;
  const limit = chosen && CHEAP_KEX.includes(chosen) ? CHEAP_KEX.indexOf(chosen) : CHEAP_KEX.length;
  return CHEAP_KEX.slice(0, limit).find((k) => theirs.includes(k)) ?? null;
}

function noCommon(
  category: ListCategory,
  words: string,
): CatalogueEntry<`kex.no-common-${Category}`> {
  const legacy = LEGACY_HARM_ORDER[category][0] ?? "";
  const { fix, opensshFix, libraryFix } = enableFlags([{
    category,
    algorithm: legacy,
    status: "legacy",
    risk: null,
  }]);
  return {
    stage: "kex",
    title: `no ${words} in common with the server`,
    explanation: `The server accepts no ${words} that we offered. Enable the least harmful one ` +
      "the server offers (computed from both lists).",
    fix,
    opensshFix,
    libraryFix,
    securityCost: category === "compression" ? undefined : (riskOf(legacy) ?? undefined),
    refine: refineNoCommon,
  };
}

function refineKexStage(c: FailureContext): Refinement {
  if (!duringRekey(c.events)) return {};
  return {
    title: "a rekey (key renewal) failed",
    explanation: "The session was up; the failure happened while renewing the keys (rekey), " +
      "which the server or our limits triggered. Some old devices handle rekeying badly; a " +
      "higher limit avoids rekeying during short sessions.",
    fix: "--rekey-limit 8G",
    opensshFix: "-o RekeyLimit=8G",
    libraryFix: libraryOptions({ rekeyLimitBytes: raw("8 * 2 ** 30") }),
    securityCost: "keys are used for more data before renewal",
  };
}
