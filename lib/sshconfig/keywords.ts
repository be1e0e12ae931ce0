/**
 * Every ssh_config keyword OpenSSH's client knows (readconf.c's table, plus the GSSAPI keywords
 * of Debian's build) and what sshtrace does with it: `supported` (acted on), `structural` (Host,
 * Match, Include, IgnoreUnknown: they shape the reading), `refused` (a value other than the
 * `harmless` ones stops the connection with the reason), or `ignored-harmless` (OpenSSH itself
 * ignores it, or it only matters for a feature that is refused anyway). Pure data.
 * @module
 */

export type KeywordStatus = "supported" | "structural" | "refused" | "ignored-harmless";

export interface KeywordInfo {
  /** The name as ssh_config(5) spells it. */
  readonly name: string;
  readonly status: KeywordStatus;
  /** For `refused` and `ignored-harmless`: why, in one line. */
  readonly reason?: string;
  /** For `refused`: values (lower case) that ask for nothing sshtrace lacks, so are accepted. */
  readonly harmless?: readonly string[];
  /** An obsolete spelling: the lower-case keyword it stands for. */
  readonly aliasOf?: string;
}

const supported = (name: string): KeywordInfo => ({ name, status: "supported" });
const refused = (name: string, reason: string, harmless: readonly string[] = []): KeywordInfo => ({
  name,
  status: "refused",
  reason,
  harmless,
});
const ignored = (name: string, reason: string): KeywordInfo => ({
  name,
  status: "ignored-harmless",
  reason,
});
const alias = (name: string, of: string, status: KeywordStatus = "supported"): KeywordInfo => ({
  name,
  status,
  aliasOf: of,
});

const FORWARDING = "until jump hosts, proxies and forwarding land in sshtrace";
const DEPRECATED = "deprecated: OpenSSH ignores it";
const UNSUPPORTED = "no longer supported by OpenSSH, which ignores it";
const GSSAPI = "no GSSAPI/Kerberos in sshtrace; OpenSSH built without GSSAPI ignores it too";
const CANONICAL = "sshtrace does not canonicalise host names";
const X11 = "sshtrace does not forward X11";
const X11_ONLY = "only used with X11 forwarding, which is refused";
const SHARING = "sshtrace does not share connections (ControlMaster)";
const NO = ["no", "false"];

const TABLE: readonly KeywordInfo[] = [
  // Structure of the file
  { name: "Host", status: "structural" },
  { name: "Match", status: "structural" },
  { name: "Include", status: "structural" },
  { name: "IgnoreUnknown", status: "structural" },
  // Supported (issue 15 item 3)
  supported("HostName"),
  supported("Port"),
  supported("User"),
  supported("IdentityFile"),
  alias("IdentityFile2", "identityfile"),
  supported("IdentitiesOnly"),
  supported("IdentityAgent"),
  supported("CertificateFile"),
  supported("PreferredAuthentications"),
  supported("PasswordAuthentication"),
  supported("KbdInteractiveAuthentication"),
  alias("ChallengeResponseAuthentication", "kbdinteractiveauthentication"),
  alias("SkeyAuthentication", "kbdinteractiveauthentication"),
  alias("TisAuthentication", "kbdinteractiveauthentication"),
  supported("PubkeyAuthentication"),
  alias("DSAAuthentication", "pubkeyauthentication"),
  supported("PubkeyAcceptedAlgorithms"),
  alias("PubkeyAcceptedKeyTypes", "pubkeyacceptedalgorithms"),
  supported("HostKeyAlgorithms"),
  supported("KexAlgorithms"),
  supported("Ciphers"),
  supported("MACs"),
  supported("NumberOfPasswordPrompts"),
  supported("StrictHostKeyChecking"),
  supported("UserKnownHostsFile"),
  supported("GlobalKnownHostsFile"),
  supported("HashKnownHosts"),
  supported("CheckHostIP"),
  supported("HostKeyAlias"),
  supported("AddressFamily"),
  supported("BindAddress"),
  supported("ConnectTimeout"),
  supported("ConnectionAttempts"),
  supported("ServerAliveInterval"),
  supported("ServerAliveCountMax"),
  supported("TCPKeepAlive"),
  alias("KeepAlive", "tcpkeepalive"),
  supported("Compression"),
  supported("RekeyLimit"),
  supported("RequestTTY"),
  supported("SendEnv"),
  supported("SetEnv"),
  supported("EscapeChar"),
  supported("LogLevel"),
  supported("BatchMode"),
  supported("RequiredRSASize"),
  supported("CASignatureAlgorithms"),
  supported("ProxyJump"),
  supported("LocalForward"),
  supported("ProxyCommand"),
  supported("RemoteForward"),
  supported("DynamicForward"),
  supported("ForwardAgent"),
  supported("GatewayPorts"),
  supported("ExitOnForwardFailure"),
  supported("StreamLocalBindMask"),
  supported("StreamLocalBindUnlink"),
  // Refused until the forwarding issue lands
  refused("ClearAllForwardings", FORWARDING, NO),
  refused("PermitRemoteOpen", FORWARDING, ["any"]),
  refused("ProxyUseFdpass", FORWARDING, NO),
  refused("Tunnel", "sshtrace does not forward tun/tap devices", NO),
  refused("TunnelDevice", "sshtrace does not forward tun/tap devices", ["any:any"]),
  // Refused: features sshtrace does not have
  refused("AddKeysToAgent", "sshtrace never adds keys to the agent", NO),
  refused("ForwardX11", X11, NO),
  ignored("ForwardX11Trusted", X11_ONLY),
  ignored("ForwardX11Timeout", X11_ONLY),
  ignored("XAuthLocation", X11_ONLY),
  refused("ControlMaster", SHARING, NO),
  refused("ControlPath", SHARING, ["none"]),
  refused("ControlPersist", SHARING, NO),
  refused("CanonicalizeHostname", CANONICAL, NO),
  refused("CanonicalDomains", CANONICAL, ["none"]),
  refused("CanonicalizeFallbackLocal", CANONICAL, ["yes", "true"]),
  refused("CanonicalizeMaxDots", CANONICAL, ["1"]),
  refused("CanonicalizePermittedCNAMEs", CANONICAL, ["none"]),
  refused("HostbasedAuthentication", "sshtrace has no host-based authentication", NO),
  refused("HostbasedAcceptedAlgorithms", "sshtrace has no host-based authentication"),
  alias("HostbasedKeyTypes", "hostbasedacceptedalgorithms", "refused"),
  refused("EnableSSHKeysign", "sshtrace has no host-based authentication", NO),
  refused("KbdInteractiveDevices", "sshtrace does not ask for authentication devices"),
  refused("LocalCommand", "sshtrace runs no local commands", ["none"]),
  refused("PermitLocalCommand", "sshtrace runs no local commands", NO),
  refused("RemoteCommand", "give the command on the command line", ["none"]),
  refused("SessionType", "sshtrace always opens a shell or runs a command", ["default"]),
  refused("StdinNull", "not yet in sshtrace (ssh -n)", NO),
  refused("ForkAfterAuthentication", "sshtrace does not go to the background (ssh -f)", NO),
  refused("VerifyHostKeyDNS", "sshtrace does not look up SSHFP records", NO),
  refused("VisualHostKey", "sshtrace prints fingerprints, not random art", NO),
  refused("UpdateHostKeys", "sshtrace does not learn new host keys from the server", NO),
  refused("FingerprintHash", "sshtrace shows SHA256 fingerprints", ["sha256"]),
  refused("IPQoS", "sshtrace leaves IP type-of-service to the system"),
  refused("NoHostAuthenticationForLocalhost", "sshtrace checks localhost's key too", NO),
  refused("BindInterface", "sshtrace binds addresses (BindAddress), not interfaces"),
  refused("RevokedHostKeys", "until revoked-key lists land in sshtrace", ["none"]),
  refused("KnownHostsCommand", "sshtrace reads known_hosts files only", ["none"]),
  refused("SecurityKeyProvider", "sshtrace has no FIDO security-key support", ["internal"]),
  refused("PKCS11Provider", "sshtrace has no PKCS#11 support", ["none"]),
  refused("SmartcardDevice", "sshtrace has no PKCS#11 support"),
  refused("Tag", "Match tagged is not supported by sshtrace"),
  refused("LogVerbose", "sshtrace's trace has its own detail levels (-v)", ["none"]),
  refused("EnableEscapeCommandline", "sshtrace has no ~C command line", NO),
  refused("ObscureKeystrokeTiming", "sshtrace does not send keystroke chaff", NO),
  refused("ChannelTimeout", "sshtrace has no idle channel timeout", ["none"]),
  refused("VersionAddendum", "sshtrace sends its own version line", ["none"]),
  refused("RefuseConnection", "not supported by sshtrace", NO),
  refused("WarnWeakCrypto", "sshtrace grades the algorithms it negotiates itself", ["yes", "true"]),
  ignored("SyslogFacility", "used only when logging to syslog (ssh -y), which sshtrace never does"),
  // GSSAPI (also the keywords of Debian's GSSAPI key-exchange patch)
  ignored("GSSAPIAuthentication", GSSAPI),
  ignored("GSSAPIDelegateCredentials", GSSAPI),
  ignored("GSSAPIKeyExchange", GSSAPI),
  ignored("GSSAPITrustDNS", GSSAPI),
  ignored("GSSAPIRenewalForcesRekey", GSSAPI),
  ignored("GSSAPIKexAlgorithms", GSSAPI),
  ignored("GSSAPIClientIdentity", GSSAPI),
  ignored("GSSAPIServerIdentity", GSSAPI),
  // What OpenSSH itself ignores
  ignored("Protocol", "OpenSSH ignores it (SSH-2 only)"),
  ignored("Cipher", DEPRECATED),
  ignored("FallBackToRsh", DEPRECATED),
  ignored("GlobalKnownHostsFile2", DEPRECATED),
  ignored("RhostsAuthentication", DEPRECATED),
  ignored("UserKnownHostsFile2", DEPRECATED),
  ignored("UseRoaming", DEPRECATED),
  ignored("UseRsh", DEPRECATED),
  ignored("UsePrivilegedPort", DEPRECATED),
  ignored("AFSTokenPassing", UNSUPPORTED),
  ignored("KerberosAuthentication", UNSUPPORTED),
  ignored("KerberosTGTPassing", UNSUPPORTED),
  ignored("RSAAuthentication", UNSUPPORTED),
  ignored("RhostsRSAAuthentication", UNSUPPORTED),
  ignored("CompressionLevel", UNSUPPORTED),
];

/** The table by lower-case keyword. */
export const KEYWORDS: ReadonlyMap<string, KeywordInfo> = new Map(
  TABLE.map((k) => [k.name.toLowerCase(), k]),
);

/** The keyword a lower-case spelling stands for (itself unless an obsolete alias). */
export function canonicalKeyword(lower: string): string {
  return KEYWORDS.get(lower)?.aliasOf ?? lower;
}

/** Whether `value` (the first argument) is one a refused keyword accepts as asking for nothing. */
export function isHarmlessValue(info: KeywordInfo, args: readonly string[]): boolean {
  const v = args.join(" ").toLowerCase();
  return (info.harmless ?? []).includes(v);
}
