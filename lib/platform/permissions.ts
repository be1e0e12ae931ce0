/**
 * Permission checks that never prompt: optional features (OpenSSL through FFI, the local
 * terminal's modes, environment switches) are used only when already granted, and fall back
 * otherwise with the reason.
 * @module
 */

/** Whether `descriptor` is granted now (never prompts; false when it cannot be asked). */
export function granted(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** The environment variable's value when reading it is granted, else undefined. */
export function grantedEnv(variable: string): string | undefined {
  return granted({ name: "env", variable }) ? Deno.env.get(variable) : undefined;
}

/** The first line of an error's message (for a one-line reason in a trace). */
export function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}
