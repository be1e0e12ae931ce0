/**
 * Not provoking OpenSSH's PerSourcePenalties (9.8+, on by default). The server keeps a penalty
 * per client address: each connection that ends without authenticating adds 1 s (`noauth`),
 * each failed login 5 s (`authfail`); the penalty drains in real time, and once it passes
 * 15 s (`min`) the address is refused ("Not allowed at this time") until it has drained, up to
 * 10 minutes. A run of many short connections (a deep probe, the doctor's ladder) reaches it in
 * seconds. The pacer models the server's penalty from the connections it made and waits before
 * the next one whenever that would take the penalty over a budget below OpenSSH's threshold.
 * Pure apart from the injected clock and sleep.
 * @module
 */

import { hasPenalties } from "../diagnose/catalogue/named.ts";

/** OpenSSH's default penalties, in seconds (sshd_config(5), PerSourcePenalties). */
export const OPENSSH_PENALTIES = { noauth: 1, authfail: 5, min: 15 } as const;

/** The penalty a run keeps under by default: well below OpenSSH's 15 s threshold. */
export const DEFAULT_PENALTY_BUDGET_S = 10;

export interface PenaltyPacerOptions {
  /** The most penalty (seconds) the pacer lets accumulate; 0 turns pacing off. @default 10 */
  budgetS?: number;
  /** Milliseconds now (tests). */
  now?: () => number;
  /** Waits (tests). */
  sleep?: (ms: number) => Promise<void>;
}

/** How a connection ended, as the server's penalty sees it. */
export type ConnectionEnd = "authenticated" | "noauth" | "authfail";

/** Paces connections to one server so its modelled penalty stays under the budget. */
export class PenaltyPacer {
  readonly budgetS: number;
  #now: () => number;
  #sleep: (ms: number) => Promise<void>;
  /** Whether the server penalises (OpenSSH 9.8+ seen); unknown servers are not paced. */
  #penalises = false;
  #penaltyS = 0;
  #at = 0;
  /** Total time waited (ms), for the report. */
  waitedMs = 0;
  /** Connections counted. */
  connections = 0;

  constructor(options: PenaltyPacerOptions = {}) {
    this.budgetS = options.budgetS ?? DEFAULT_PENALTY_BUDGET_S;
    this.#now = options.now ?? (() => performance.now());
    this.#sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  /** Whether connections are paced (an OpenSSH 9.8+ server, and a budget). */
  get active(): boolean {
    return this.#penalises && this.budgetS > 0;
  }

  /** The modelled penalty now, in seconds. */
  get penaltyS(): number {
    const drained = (this.#now() - this.#at) / 1000;
    return Math.max(0, this.#penaltyS - drained);
  }

  /**
   * Records how a connection ended: `software` is the server's version software, if seen;
   * `reserved` the cost {@link beforeConnect} set aside for it (0 when it was not called).
   */
  record(end: ConnectionEnd, software: string | null, reserved = 0): void {
    if (software !== null && hasPenalties(software)) this.#penalises = true;
    this.connections++;
    const cost = end === "noauth"
      ? OPENSSH_PENALTIES.noauth
      : end === "authfail"
      ? OPENSSH_PENALTIES.authfail
      : 0;
    this.#set(Math.max(0, this.penaltyS + cost - reserved));
  }

  /**
   * Waits, when needed, until one more connection costing `cost` stays within budget, and sets
   * that cost aside at once (connections made in parallel share the budget); returns the cost
   * reserved, to pass to {@link record}.
   */
  async beforeConnect(cost: number = OPENSSH_PENALTIES.noauth): Promise<number> {
    for (;;) {
      const over = this.penaltyS + cost - this.budgetS;
      if (!this.active || over <= 0) break;
      const ms = Math.ceil(over * 1000);
      await this.#sleep(ms);
      this.waitedMs += ms;
    }
    this.#set(this.penaltyS + cost);
    return cost;
  }

  #set(penaltyS: number): void {
    this.#penaltyS = penaltyS;
    this.#at = this.#now();
  }
}
