/** An in-memory {@link ConfigIo} for the ssh_config reader's tests. @module */

import type { ConfigIo } from "../../lib/sshconfig/types.ts";

/** Files by absolute path; directories are implied by the paths. */
export function memoryIo(
  files: Record<string, string>,
  options: { home?: string; user?: string; env?: Record<string, string> } = {},
): ConfigIo & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    readText(path: string, maxBytes: number): string | undefined {
      reads.push(path);
      const text = files[path];
      return text === undefined ? undefined : text.slice(0, maxBytes + 1);
    },
    readDir(path: string): string[] | undefined {
      const prefix = path.endsWith("/") ? path : `${path}/`;
      const names = new Set<string>();
      for (const f of Object.keys(files)) {
        if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split("/")[0]!);
      }
      return names.size ? [...names] : undefined;
    },
    env: (name: string) => options.env?.[name],
    home: options.home ?? "/home/me",
    localUser: options.user ?? "me",
    uid: 1000,
    localHost: "box.example.org",
  };
}
