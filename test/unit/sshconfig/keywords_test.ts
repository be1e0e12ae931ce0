import assert from "node:assert/strict";
import { KEYWORDS } from "../../../lib/sshconfig/keywords.ts";
import { VALUE_SPECS } from "../../../lib/sshconfig/values.ts";

/** readconf.c's keyword table (OpenSSH portable, August 2026), lower case. */
const OPENSSH_KEYWORDS = `
  addkeystoagent addressfamily afstokenpassing batchmode bindaddress bindinterface 
  canonicaldomains canonicalizefallbacklocal canonicalizehostname canonicalizemaxdots 
  canonicalizepermittedcnames casignaturealgorithms certificatefile 
  challengeresponseauthentication channeltimeout checkhostip cipher ciphers 
  clearallforwardings compression compressionlevel connectionattempts connecttimeout 
  controlmaster controlpath controlpersist dsaauthentication dynamicforward 
  enableescapecommandline enablesshkeysign escapechar exitonforwardfailure fallbacktorsh 
  fingerprinthash forkafterauthentication forwardagent forwardx11 forwardx11timeout 
  forwardx11trusted gatewayports globalknownhostsfile globalknownhostsfile2 
  gssapiauthentication gssapidelegatecredentials hashknownhosts host 
  hostbasedacceptedalgorithms hostbasedauthentication hostbasedkeytypes hostkeyalgorithms 
  hostkeyalias hostname identitiesonly identityagent identityfile identityfile2 ignoreunknown 
  include ipqos kbdinteractiveauthentication kbdinteractivedevices keepalive 
  kerberosauthentication kerberostgtpassing kexalgorithms knownhostscommand localcommand 
  localforward loglevel logverbose macs match nohostauthenticationforlocalhost 
  numberofpasswordprompts obscurekeystroketiming passwordauthentication permitlocalcommand 
  permitremoteopen pkcs11provider port preferredauthentications protocol proxycommand 
  proxyjump proxyusefdpass pubkeyacceptedalgorithms pubkeyacceptedkeytypes 
  pubkeyauthentication refuseconnection rekeylimit remotecommand remoteforward requesttty 
  requiredrsasize revokedhostkeys rhostsauthentication rhostsrsaauthentication 
  rsaauthentication securitykeyprovider sendenv serveralivecountmax serveraliveinterval 
  sessiontype setenv skeyauthentication smartcarddevice stdinnull streamlocalbindmask 
  streamlocalbindunlink stricthostkeychecking syslogfacility tag tcpkeepalive 
  tisauthentication tunnel tunneldevice updatehostkeys useprivilegedport user 
  userknownhostsfile userknownhostsfile2 useroaming usersh verifyhostkeydns versionaddendum 
  visualhostkey warnweakcrypto xauthlocation 
`.trim().split(/\s+/);

/** Issue 15 item 3: the keywords sshtrace must act on. */
const MUST_SUPPORT = [
  "HostName",
  "Port",
  "User",
  "IdentityFile",
  "IdentitiesOnly",
  "IdentityAgent",
  "CertificateFile",
  "PreferredAuthentications",
  "PasswordAuthentication",
  "KbdInteractiveAuthentication",
  "PubkeyAuthentication",
  "PubkeyAcceptedAlgorithms",
  "HostKeyAlgorithms",
  "KexAlgorithms",
  "Ciphers",
  "MACs",
  "NumberOfPasswordPrompts",
  "StrictHostKeyChecking",
  "UserKnownHostsFile",
  "GlobalKnownHostsFile",
  "HashKnownHosts",
  "CheckHostIP",
  "HostKeyAlias",
  "AddressFamily",
  "BindAddress",
  "ConnectTimeout",
  "ConnectionAttempts",
  "ServerAliveInterval",
  "ServerAliveCountMax",
  "TCPKeepAlive",
  "Compression",
  "RekeyLimit",
  "RequestTTY",
  "SendEnv",
  "SetEnv",
  "EscapeChar",
  "LogLevel",
  "BatchMode",
  "RequiredRSASize",
  "ProxyJump",
  "LocalForward",
  "ProxyCommand",
  "RemoteForward",
  "DynamicForward",
  "ForwardAgent",
];
/** Keywords of the forwarding issue still refused (none since it landed; kept for the check). */
const REFUSED_UNTIL_FORWARDING: string[] = [];

Deno.test("every keyword of OpenSSH's client has a status in sshtrace's table", () => {
  const missing = OPENSSH_KEYWORDS.filter((k) => !KEYWORDS.has(k));
  assert.deepEqual(missing, []);
});

Deno.test("the keywords issue 15 lists are supported, each with a value parser", () => {
  for (const name of MUST_SUPPORT) {
    const info = KEYWORDS.get(name.toLowerCase());
    assert.equal(info?.status, "supported", name);
    assert.equal(info?.name, name);
    assert.ok(VALUE_SPECS.has(name.toLowerCase()), name);
  }
  for (const name of REFUSED_UNTIL_FORWARDING) {
    const info = KEYWORDS.get(name.toLowerCase())!;
    assert.equal(info.status, "refused", name);
    assert.match(info.reason!, /forwarding/);
  }
});

Deno.test("refused and ignored keywords give a reason; aliases point at a known keyword", () => {
  for (const [lower, info] of KEYWORDS) {
    assert.equal(info.name.toLowerCase(), lower);
    if (info.aliasOf) {
      assert.ok(KEYWORDS.has(info.aliasOf), lower);
      continue;
    }
    if (info.status === "refused" || info.status === "ignored-harmless") {
      assert.ok(info.reason && info.reason.length > 10, lower);
    }
    if (info.status === "supported") assert.ok(VALUE_SPECS.has(lower), lower);
  }
  for (const k of VALUE_SPECS.keys()) assert.ok(KEYWORDS.has(k), k);
});
