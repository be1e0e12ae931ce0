/**
 * The engine of the lab's device imitations: runs a {@link DeviceSpec} as a pty shell program
 * (echo, prompt per mode and level, paged output with the vendor's pager and erase sequence,
 * the paging command, the privilege step with its secret, configuration mode, dialogs, error
 * lines, logout). The vendor files only describe their device.
 * @module
 */

import { LineReader, type Program, type ProgramIo } from "../programs.ts";
import type { CliState, DeviceSpec, Reply } from "./types.ts";

const PAGE_ROWS = 24;
const NL = "\r\n";

const squash = (text: string) => text.trim().split(/\s+/).join(" ");

/** The shell program of one device imitation (`secret`: the enable / super secret). */
export function deviceShell(spec: DeviceSpec, secret: string): Program {
  return (io) => new DeviceCli(spec, secret, io).run();
}

class DeviceCli {
  #spec: DeviceSpec;
  #secret: string;
  #io: ProgramIo;
  #reader: LineReader;
  #paging = true;
  #state: CliState;

  constructor(spec: DeviceSpec, secret: string, io: ProgramIo) {
    this.#spec = spec;
    this.#secret = secret;
    this.#io = io;
    this.#reader = new LineReader(io);
    this.#state = {
      hostname: io.hostname,
      user: io.user,
      level: spec.startLevel,
      config: null,
      count: 0,
      changed: false,
    };
  }

  async run(): Promise<number | null> {
    const spec = this.#spec;
    if (spec.anyKey !== undefined) {
      await this.#io.write(spec.anyKey);
      if (await this.#reader.key() === null) return null;
      await this.#io.write(NL);
    }
    if (spec.menu) {
      await this.#io.write(spec.menu.screen);
      for (;;) {
        const key = await this.#reader.key();
        if (key === null) return null;
        if (String.fromCharCode(key) === spec.menu.cliKey) break;
      }
      await this.#io.write(NL);
    }
    if (spec.greeting.length) await this.#io.write(spec.greeting.join(NL) + NL);
    for (;;) {
      const prompt = spec.prompt(this.#state);
      await this.#io.write(prompt);
      const raw = await this.#reader.line();
      if (raw === null) return null;
      const command = squash(raw);
      if (!command) continue;
      this.#state.count++;
      const reply = this.#run(command, prompt);
      // EOF, or logged out: a switch closes the channel without an exit status.
      if (await this.#answer(reply) !== true) return null;
    }
  }

  /** Prints a reply, then runs its dialog; false at EOF, `closed` when the reply ends it. */
  async #answer(reply: Reply): Promise<boolean | "closed"> {
    if (!await this.#print(reply.lines)) return false;
    if (reply.close) return "closed";
    if (!reply.dialog) return true;
    await this.#io.write(reply.dialog.question);
    const text = await this.#reader.line(reply.dialog.echo === false);
    if (text === null) return false;
    return await this.#answer(reply.dialog.answer(text.trim(), this.#state));
  }

  /** Prints lines a page at a time, waiting at the pager; false at EOF. */
  async #print(lines: string[]): Promise<boolean> {
    const { pager, erase } = this.#spec;
    let pending = [...lines];
    let rows = this.#paging ? PAGE_ROWS : pending.length;
    for (;;) {
      const page = pending.slice(0, rows);
      pending = pending.slice(rows);
      if (page.length) await this.#io.write(page.map((l) => l + NL).join(""));
      if (!pending.length) return true;
      await this.#io.write(pager);
      const key = await this.#reader.key();
      if (key === null) return false;
      await this.#io.write(erase);
      if (key === 0x20) rows = PAGE_ROWS;
      else if (key === 0x0d || key === 0x0a) rows = 1;
      else return true; // q, Ctrl-C: the rest is dropped
    }
  }

  #error(command: string, prompt: string): Reply {
    return { lines: this.#spec.error(command, prompt) };
  }

  #run(command: string, prompt: string): Reply {
    const spec = this.#spec;
    const state = this.#state;
    const word = command.split(" ")[0]!;
    if (state.config === null && spec.logout.includes(command)) {
      return spec.logoutDialog?.(state) ?? { lines: [], close: true };
    }
    if (spec.pagingOff && command === spec.pagingOff.command) {
      this.#paging = false;
      return { lines: spec.pagingOff.reply };
    }
    if (spec.privilege && word === spec.privilege.command && state.config === null) {
      return this.#privilege(command, prompt);
    }
    if (word === "disable" && spec.privilege?.command === "enable" && state.config === null) {
      state.level = 1;
      return { lines: [] };
    }
    const config = spec.config;
    if (config && state.config === null && command === config.enter) {
      if (state.level < spec.configLevel) return this.#error(command, prompt);
      state.config = "";
      return { lines: config.enterReply };
    }
    if (config && state.config !== null) {
      if ((command === "exit" || command === "quit") && state.config !== "") {
        state.config = "";
        return { lines: config.lineReply ?? [] };
      }
      const leave = config.leave[command];
      if (leave) {
        state.config = null;
        return { lines: leave };
      }
      if (word in config.words && !config.reject?.test(command)) {
        state.changed = true;
        const context = config.words[word]?.(command.slice(word.length).trim());
        if (context !== undefined) state.config = context;
        if (word === "hostname" || word === "sysname") {
          state.hostname = command.slice(word.length).trim() || state.hostname;
        }
        return { lines: config.lineReply ?? [] };
      }
      const show = spec.commands[command];
      if (show && /^(?:display|show|run)\b/.test(command)) return show(state);
      return this.#error(command, prompt);
    }
    if (spec.gated.includes(command) && state.level < spec.configLevel) {
      return this.#error(command, prompt);
    }
    const known = spec.commands[command];
    return known ? known(state) : this.#error(command, prompt);
  }

  /** `enable [N]` / `super [N]`: asks for the secret when the level goes up. */
  #privilege(command: string, prompt: string): Reply {
    const p = this.#spec.privilege!;
    const state = this.#state;
    const arg = command.split(" ").slice(1);
    const level = arg.length === 0 ? p.defaultLevel : Number(arg[0]);
    if (arg.length > 1 || !/^\d+$/.test(arg[0] ?? "0") || level < p.min || level > p.max) {
      return this.#error(command, prompt);
    }
    if (level <= state.level) {
      state.level = level;
      return { lines: p.reached(level) };
    }
    let left = p.tries;
    const ask = (lines: string[]): Reply => ({
      lines,
      dialog: {
        question: p.secretPrompt,
        echo: false,
        answer: (text) => {
          if (text === this.#secret) {
            state.level = level;
            return { lines: p.reached(level) };
          }
          return --left > 0 ? ask(p.again) : { lines: p.refused };
        },
      },
    });
    return ask([]);
  }
}
