/**
 * The order of `-o`, `-p` and `-l` on the command line, which parseArgs does not keep: ssh(1)
 * keeps the first value of each setting, so `sshtrace -G` needs the order they were given in.
 * @module
 */

/** One of `-o`, `-p`, `-l` as given on the command line. */
export interface CommandLineValue {
  kind: "option" | "port" | "user";
  value: string;
  flag: string;
}

const ORDERED: Record<string, CommandLineValue["kind"]> = { o: "option", p: "port", l: "user" };
const ORDERED_LONG: Record<string, CommandLineValue["kind"]> = {
  option: "option",
  port: "port",
  login: "user",
};

/** The `-o`/`-p`/`-l` values of split option words (`--port=22`, `-p22`, `-vo X`), in order. */
export function orderedValues(
  optionArgs: readonly string[],
  takesValue: (letter: string) => boolean,
): CommandLineValue[] {
  const out: CommandLineValue[] = [];
  for (const arg of optionArgs) {
    const long = /^--([a-z-]+)=([\s\S]*)$/.exec(arg);
    if (long) {
      const kind = ORDERED_LONG[long[1]!];
      if (kind) out.push({ kind, value: long[2]!, flag: `-${long[1]![0]}` });
      continue;
    }
    if (arg.startsWith("--") || !arg.startsWith("-")) continue;
    for (let k = 1; k < arg.length; k++) {
      if (!takesValue(arg[k]!)) continue; // a switch (`-v`), or unknown (parseArgs refused it)
      const kind = ORDERED[arg[k]!];
      if (kind) out.push({ kind, value: arg.slice(k + 1), flag: `-${arg[k]}` });
      break;
    }
  }
  return out;
}
