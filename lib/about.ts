/** sshtrace's version, read from deno.json: the one place it is written. @module */

import denoConfig from "../deno.json" with { type: "json" };

/** The version `--version` prints and the version line carries (`SSH-2.0-sshtrace_<version>`). */
export const SSHTRACE_VERSION: string = denoConfig.version;
