/**
 * The user name a login uses when none is given, in a module of its own so the CLI can name the
 * user before it loads the transport (lib/client/open_transport.ts).
 * @module
 */

import { platform } from "../platform/mod.ts";

/** The user name to use when none is given: `$USER`, else `$LOGNAME`, else `root`. */
export function defaultUser(): string {
  return platform.env("USER") ?? platform.env("LOGNAME") ?? "root";
}
