/**
 * Drives an interactive shell the way a person at a terminal would, for devices that refuse
 * exec: wait for the prompt, turn paging off (or answer pagers), send each command, collect its
 * output without the echo, pager prompts or trailing prompt, then log out.
 *
 * Works over any duplex of bytes ({@link ShellIo}), so it runs in memory in tests; over SSH use
 * {@link sessionIo}. Output stays bytes; `output` strings are decoded with replacement.
 * Emits `session` / `info` events (data only, never command text or output) and throws
 * `SshError` at stage `session`.
 * @module
 */

import { Inbox, type ShellIo } from "./shell_io.ts";
import { SshError } from "../errors/mod.ts";
import { contradiction, detectDevice } from "./detect.ts";
import {
  type DeviceName,
  type DevicePreset,
  DEVICES,
  findErrorLine,
  privilegedPrompt,
  SECRET_PROMPT,
} from "./devices.ts";
import { type PrivilegeResult, raisePrivilege } from "./privilege.ts";
import { BUILT_IN_DIALOGS, type DialogRule, looksLikeQuestion } from "./dialogs.ts";
import type { CommandResult, PagingMode, SendOptions, SendResult } from "./types.ts";
import { commandFailure, promptNotFound, seconds, wrongDevice } from "./failures.ts";
import { logOut } from "./logout.ts";
import { waitForPrompt, type WaitShell } from "./wait.ts";
import {
  binary,
  cleanOutput,
  customPromptMatcher,
  decodeOutput,
  encodeCommand,
  fromBinary,
  lastLine,
  learnedPromptMatcher,
  matchPrompt,
  normalizeNewlines,
  PROMPT_STYLES,
  type PromptMatch,
  type PromptMatcher,
  stripEscapes,
} from "./prompt.ts";

export { sessionIo, type SessionLike, type ShellIo } from "./shell_io.ts";
export type { CommandResult, CommandStatus, PagingMode, SendOptions, SendResult } from "./types.ts";

/**
 * Runs commands in an interactive shell and returns their outputs.
 *
 * @example
 * ```ts
 * const session = await client.openSession({ term: "vt100", cols: 80, rows: 24 });
 * await session.shell();
 * const result = await runShell(sessionIo(session), {
 *   commands: ["display version"],
 *   hints: [client.transport.serverVersion?.line ?? ""],
 * });
 * console.log(result.commands[0].output);
 * ```
 */
export async function runShell(io: ShellIo, options: SendOptions): Promise<SendResult> {
  return await new ShellDriver(io, options).run();
}

class ShellDriver {
  #io: ShellIo;
  #o: SendOptions;
  #inbox: Inbox;
  #newline: string;
  #settleMs: number;
  #dialogs: readonly DialogRule[];

  constructor(io: ShellIo, options: SendOptions) {
    this.#io = io;
    this.#o = options;
    const transcript = options.transcript;
    this.#inbox = new Inbox(
      io.read(),
      transcript ? (c) => transcript.received(c) : undefined,
      options.maxOutputBytes,
    );
    this.#newline = options.newline ?? "\r";
    this.#settleMs = options.settleMs ?? 300;
    this.#dialogs = [
      ...(options.answers ?? []),
      ...(options.builtInDialogs === false ? [] : BUILT_IN_DIALOGS),
    ];
  }

  #info(message: string): void {
    this.#o.tracer?.emit({ stage: "session", type: "info", message });
  }

  /** Types `text`; a `secret` is never traced, and only masked in a transcript. */
  #send(text: string, secret = false): Promise<void> {
    const bytes = encodeCommand(text);
    this.#o.transcript?.sent(bytes, secret);
    return this.#io.write(bytes);
  }

  async run(): Promise<SendResult> {
    try {
      return await this.#run();
    } finally {
      await this.#inbox.stop();
    }
  }

  async #run(): Promise<SendResult> {
    const o = this.#o;
    const choice = o.device ?? "auto";
    const styles = choice === "auto" ? PROMPT_STYLES : DEVICES[choice].styles;
    const promptTimeoutMs = o.promptTimeoutMs ?? 15_000;
    this.#info(
      `shell: waiting for the prompt (device ${choice}` +
        (o.promptPattern ? `, prompt pattern ${o.promptPattern}` : "") + ")",
    );

    // 1. The first prompt.
    const custom = o.promptPattern ? customPromptMatcher(o.promptPattern) : null;
    let first: PromptMatch | null = null;
    // A given --device whose style does not fit a prompt another device shows: noticed once the
    // shell is quiet, instead of waiting out the prompt limit.
    let other: PromptMatch | null = null;
    const seen = await waitForPrompt(this.#waitShell(), {
      from: 0,
      timeoutMs: promptTimeoutMs,
      nudgeMs: o.nudgeMs ?? 2000,
      menus: true,
      rate: (line) => {
        if (custom) {
          if (custom(line) !== "strong") return null;
          first = matchPrompt(line, styles) ?? { style: styles[0], text: line, name: null };
          return "strong";
        }
        const m = matchPrompt(line, styles);
        if (!m) {
          other = choice === "auto" ? null : matchPrompt(line);
          return other ? "weak" : null;
        }
        other = null;
        first = m;
        // The first prompt is rated weak: wait until the greeting is over.
        return "weak";
      },
      fail: (why, tail) =>
        promptNotFound({ why, tail, choice, styles, pattern: o.promptPattern, promptTimeoutMs }),
    });
    const wrong = other as PromptMatch | null;
    if (wrong && choice !== "auto") {
      const suggested = detectDevice(wrong, [
        ...(o.hints ?? []),
        { source: "greeting", text: stripEscapes(binary(this.#inbox.view(0))) },
      ]);
      throw wrongDevice(wrong, choice, suggested.device, promptTimeoutMs);
    }
    const prompt = first as PromptMatch | null ?? { style: styles[0], text: seen.line, name: null };
    const greetingBytes = this.#inbox.slice(0, seen.lineStart);
    const greeting = decodeOutput(fromBinary(normalizeNewlines(binary(greetingBytes))), o.encoding);
    const rate: PromptMatcher = custom ?? learnedPromptMatcher(prompt);

    // 2. Which device.
    let device: DeviceName;
    let deviceReason: string;
    let deviceEvidence: string[] = [];
    // Escapes out, so a screen-clearing banner (`ESC[1;1HHP J9773A`) still reads as words.
    const hints = [
      ...(o.hints ?? []),
      { source: "greeting", text: stripEscapes(binary(greetingBytes)) },
    ];
    if (choice === "auto") {
      const detection = detectDevice(prompt, hints);
      ({ device, reason: deviceReason, evidence: deviceEvidence } = detection);
      for (const line of deviceEvidence) this.#info(`device auto: ${line}`);
    } else {
      device = choice;
      deviceReason = "given";
      const other = contradiction(choice, prompt, hints);
      if (other) {
        deviceEvidence = [other.line];
        this.#info(
          `device: --device ${choice} given, but the ${other.line}: --device ${other.device} ` +
            "(or auto) may fit better",
        );
      }
    }
    const preset = DEVICES[device];
    this.#info(
      `shell: prompt ${JSON.stringify(prompt.text.trim())}; device ${device} (${preset.label}` +
        (choice === "auto" ? `, detected from ${deviceReason})` : ")"),
    );
    let from = this.#inbox.length;

    // 2b. Privilege (before paging: some devices only allow the paging command once raised).
    let privilege: PrivilegeResult | null = null;
    if (o.enable) {
      const shell = this.#privilegeShell(from, rate, preset);
      privilege = await raisePrivilege(
        shell,
        preset,
        o.enableSecret,
        prompt.text.trim(),
        o.enableLevel,
      );
      from = shell.position();
    }

    // 3. Paging.
    let paging: PagingMode = "answering-pagers";
    if ((o.disablePaging ?? true) && preset.disablePaging) {
      const r = await this.#command(preset.disablePaging, from, rate, preset);
      from = r.next;
      const reply = decodeOutput(r.bytes, o.encoding);
      const errorLine = findErrorLine(reply);
      if (errorLine !== null) {
        this.#info(
          `shell: the device did not accept ${JSON.stringify(preset.disablePaging)}` +
            ` (${JSON.stringify(errorLine)}); answering pagers instead`,
        );
      } else {
        paging = "disabled";
        this.#info(`shell: paging turned off with ${JSON.stringify(preset.disablePaging)}`);
      }
    } else {
      this.#info(
        preset.disablePaging
          ? "shell: paging left on (answering pagers)"
          : `shell: ${preset.label} has no paging command; answering pagers`,
      );
    }

    // 4. The commands (in configuration mode with `config`).
    const config = o.config ? preset.config : null;
    if (o.config && !config) {
      throw new SshError(
        "usage",
        "usage.invalid",
        `--config: ${preset.label} has no configuration mode to enter`,
        { expected: "--config with a network device (comware, huawei, cisco, junos)" },
      );
    }
    if (config) from = await this.#configStep("entered", config.enter, from, rate, preset);
    const commands: CommandResult[] = [];
    for (const [i, command] of o.commands.entries()) {
      const r = await this.#command(command, from, rate, preset);
      from = r.next;
      const output = decodeOutput(r.bytes, o.encoding);
      const lines = output === "" ? 0 : output.split("\n").length - (output.endsWith("\n") ? 1 : 0);
      const errorLine = preset.errorLines ? findErrorLine(output) : null;
      this.#info(
        `shell: command ${i + 1}/${o.commands.length}: ${r.bytes.length} bytes, ${lines} lines` +
          ` in ${r.ms} ms` + (r.pagers ? `, ${r.pagers} pager prompt(s) answered` : "") +
          (errorLine === null ? "" : `; rejected by the device: ${JSON.stringify(errorLine)}`),
      );
      const result: CommandResult = {
        command,
        output,
        bytes: r.bytes,
        ms: r.ms,
        pagers: r.pagers,
        dialogs: r.dialogs,
        status: errorLine === null ? "ok" : "rejected",
        errorLine,
      };
      commands.push(result);
      o.onCommand?.(result, i);
      // Keep memory flat over many commands.
      if (from > 1 << 20) from -= this.#inbox.discard(from);
    }
    if (config) {
      from = await this.#configStep("left", config.exit, from, rate, preset);
      if (o.save && config.save) {
        from = await this.#configStep("saved", config.save, from, rate, preset);
      }
    }

    // 5. Log out (answering the questions some devices ask first).
    let loggedOut = false;
    if (o.logout ?? true) {
      const logoutMs = o.logoutTimeoutMs ?? 3000;
      loggedOut = await logOut(this.#waitShell(), preset.logout, logoutMs);
      this.#info(
        loggedOut
          ? `shell: logged out with ${JSON.stringify(preset.logout)}`
          : `shell: still open ${seconds(logoutMs)} after ` +
            `${JSON.stringify(preset.logout)}; leaving it to the caller to close`,
      );
    }

    const promptText = decodeOutput(fromBinary(prompt.text), o.encoding).trim();
    return {
      device,
      deviceReason,
      deviceEvidence,
      prompt: promptText,
      privileged: privilegedPrompt(device, privilege?.prompt ?? promptText),
      privilegeLevel: privilege?.level ?? null,
      greeting,
      paging,
      commands,
      loggedOut,
    };
  }

  #waitShell(): WaitShell {
    return {
      inbox: this.#inbox,
      send: (text, secret) => this.#send(text, secret),
      info: (message) => this.#info(message),
      newline: this.#newline,
      dialogs: this.#dialogs,
      encoding: this.#o.encoding,
      settleMs: this.#settleMs,
    };
  }

  /** The privilege step's view of the shell (see lib/send/privilege.ts), reading from `from`. */
  #privilegeShell(from: number, rate: PromptMatcher, preset: DevicePreset) {
    let pos = from;
    const timeoutMs = this.#o.commandTimeoutMs ?? 30_000;
    const step = preset.privilege;
    const level = this.#o.enableLevel;
    const command = step ? (level === undefined ? step.command : step.commandFor(level)) : "";
    const isSecretPrompt = (line: string) => SECRET_PROMPT.test(line) && rate(line) === null;
    return {
      position: () => pos,
      info: (message: string) => this.#info(message),
      // The secret goes through here too: it is never traced (#send emits nothing).
      line: (text: string, secret?: boolean) => this.#send(text + this.#newline, secret),
      reply: async (echo: string | undefined) => {
        const seen = await waitForPrompt(this.#waitShell(), {
          from: pos,
          timeoutMs,
          command,
          rate: (line) => isSecretPrompt(line) ? "strong" : rate(line),
          fail: (why, tail) =>
            commandFailure({ why, tail, command, timeoutMs, preset, question: null, step: true }),
        });
        const end = this.#inbox.length;
        const raw = this.#inbox.slice(pos, end);
        pos = end;
        const isPrompt = (line: string) => rate(line) !== null || isSecretPrompt(line);
        const text = decodeOutput(cleanOutput(raw, { command: echo, isPrompt }), this.#o.encoding);
        return { text, line: seen.line, secret: isSecretPrompt(seen.line) };
      },
    };
  }

  /**
   * Runs a configuration-mode step (enter, leave, save) and traces it; a step the device
   * rejects fails the run (`session.command-rejected`, no command index). Returns the new offset.
   */
  async #configStep(
    what: "entered" | "left" | "saved",
    command: string,
    from: number,
    rate: PromptMatcher,
    preset: DevicePreset,
  ): Promise<number> {
    const r = await this.#command(command, from, rate, preset);
    const errorLine = findErrorLine(decodeOutput(r.bytes, this.#o.encoding));
    if (errorLine !== null) {
      throw new SshError(
        "session",
        "session.command-rejected",
        `the device rejected the configuration step ${JSON.stringify(command)} ` +
          `(${JSON.stringify(errorLine)})`,
        { rejected: [], errorLine, prompt: "", device: preset.name, privileged: null },
      );
    }
    const verb = what === "entered"
      ? "entered configuration mode"
      : what === "left"
      ? "left configuration mode"
      : "saved the configuration";
    this.#info(`config: ${verb} with ${JSON.stringify(command)} in ${r.ms} ms`);
    return r.next;
  }

  /** Sends one command and collects its output up to the next prompt. */
  async #command(
    command: string,
    from: number,
    rate: PromptMatcher,
    preset: DevicePreset,
  ): Promise<{ bytes: Uint8Array; ms: number; pagers: number; dialogs: number; next: number }> {
    const timeoutMs = this.#o.commandTimeoutMs ?? 30_000;
    const started = performance.now();
    await this.#send(command + this.#newline);
    const seen = await waitForPrompt(this.#waitShell(), {
      from,
      timeoutMs,
      rate,
      command,
      dialogs: true,
      fail: (why, tail) => {
        const waiting = decodeOutput(
          fromBinary(lastLine(binary(this.#inbox.view(from)))),
          this.#o.encoding,
        ).trim();
        // A line shaped like a prompt (`[H3C]` after a --prompt for `<H3C>`) is not a question.
        const question = rate(waiting) === null && matchPrompt(waiting) === null &&
          looksLikeQuestion(waiting);
        return commandFailure({
          why,
          tail,
          command,
          timeoutMs,
          preset,
          question: question ? waiting : null,
        });
      },
    });
    const ms = Math.round(performance.now() - started);
    const end = this.#inbox.length;
    const raw = this.#inbox.slice(from, end);
    const bytes = cleanOutput(raw, { command, isPrompt: (line) => rate(line) !== null });
    return { bytes, ms, pagers: seen.pagers, dialogs: seen.dialogs, next: end };
  }
}
