/**
 * The help text of sshtrace, rendered from the command table (lib/cli/commands.ts): the program's
 * page (`sshtrace --help`) and each command's (`sshtrace <command> --help`).
 * @module
 */

import {
  type ArgSpec,
  type CommandName,
  COMMANDS,
  type CommandSpec,
  COMMON,
  HELP,
  type OptionSpec,
  termOf,
  VERSION,
} from "./commands.ts";

const HELP_WIDTH = 80;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return [...lines, line];
}

type Section = [title: string, rows: [term: string, description: string][]];

/** Sections of `term  description` rows, the descriptions aligned across sections and wrapped. */
function helpPage(head: string[], sections: Section[], note?: string): string {
  const pad = Math.max(...sections.flatMap(([, rows]) => rows.map(([t]) => t.length)));
  const width = Math.max(HELP_WIDTH - pad - 4, 30);
  const out = [...head];
  for (const [title, rows] of sections) {
    out.push("", title);
    for (const [term, description] of rows) {
      const [first, ...more] = wrap(description, width);
      out.push(`  ${term.padEnd(pad)}  ${first}`);
      for (const l of more) out.push(`${" ".repeat(pad + 4)}${l}`);
    }
  }
  if (note) out.push("", ...wrap(note, HELP_WIDTH));
  return out.join("\n") + "\n";
}

const argTerm = (a: ArgSpec) => {
  const name = a.variadic ? `${a.name}...` : a.name;
  return a.required ? `<${name}>` : `[${name}]`;
};

const optionRows = (options: readonly OptionSpec[]): [string, string][] =>
  options.map((o) => [
    termOf(o),
    o.default === undefined ? o.help : `${o.help} (default ${o.default})`,
  ]);

export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const args = spec.args.map(argTerm).join(" ");
  const sections: Section[] = [];
  if (spec.args.length) sections.push(["Arguments:", spec.args.map((a) => [a.name, a.help])]);
  sections.push(["Options:", optionRows([...spec.options, HELP])]);
  return helpPage(
    [
      `Usage: sshtrace ${name === "connect" ? "[connect]" : name} [options]${
        args ? " " + args : ""
      }`,
      "",
      spec.summary,
    ],
    sections,
    spec.note,
  );
}

export function programHelp(): string {
  const commands = Object.entries(COMMANDS).map(([name, spec]): [string, string] => [
    [name, ...spec.args.map(argTerm)].join(" "),
    spec.summary,
  ]);
  return helpPage(
    [
      "Usage: sshtrace [options] <target> [command...]   (log in: the connect command)",
      "       sshtrace <command> [options] [arguments]",
      "",
      "An SSH client that explains itself: every stage traced, every failure explained.",
    ],
    [
      ["Commands:", [...commands, ["help [command]", "display help for a command"]]],
      ["Common options (probe, connect, send, check):", optionRows(COMMON)],
      ["Options:", optionRows([VERSION, HELP])],
    ],
    "Run sshtrace <command> --help for all of a command's options.",
  );
}
