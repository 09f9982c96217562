/**
 * The commands a gateway answers, by name. Each has a zod schema for its arguments and a handler;
 * modules register their own (cameras register `snapshot` once they exist), so the command handler
 * knows none of them. A name that is known but not available on this gateway is refused with a
 * reason (`unavailable`), not as unknown.
 */
import type { z } from 'zod';
import type { Refusal } from './contract.js';

export interface CommandDefinition<A = unknown> {
  /** One line for docs and refusals. */
  summary: string;
  args: z.ZodType<A>;
  run(args: A): unknown;
}

/**
 * What a command's `run` throws to refuse with a reason of the contract (`out_of_range`,
 * `not_writable`, ...) rather than the catch-all `failed`.
 */
export class CommandRefusal extends Error {
  constructor(
    readonly reason: Refusal,
    message: string,
  ) {
    super(message);
  }
}

export class CommandRegistry {
  private readonly commands = new Map<string, CommandDefinition>();
  private readonly unavailable = new Map<string, string>();

  register<A>(name: string, definition: CommandDefinition<A>): void {
    if (this.commands.has(name)) throw new Error(`command ${name} is registered twice`);
    this.commands.set(name, definition);
    this.unavailable.delete(name);
  }

  /** A command of the contract this gateway cannot run, and why (until someone registers it). */
  markUnavailable(name: string, why: string): void {
    if (!this.commands.has(name)) this.unavailable.set(name, why);
  }

  get(name: string): CommandDefinition | undefined {
    return this.commands.get(name);
  }

  whyUnavailable(name: string): string | undefined {
    return this.unavailable.get(name);
  }

  names(): string[] {
    return [...this.commands.keys()].sort();
  }
}
