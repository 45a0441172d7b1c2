// What a command of the tfjs-lora program is and what it gets: the contract between the program
// (program.ts) and the commands (commands/*.ts), so that neither imports the other's module.
import type { Command } from 'commander';

/** Where a command writes: stdout and stderr, injectable for tests and embedding. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
}

/** What a command gets besides its arguments. */
export interface CliContext {
  readonly io: CliIO;
  /** Whether `--verbose` was given (print progress details and stack traces). */
  verbose(): boolean;
}

/** A command that can be added to the program: `register` adds it (name, arguments, options, action). */
export interface CliCommand {
  readonly name: string;
  register(program: Command, ctx: CliContext): void;
}

/** Process stdout/stderr. */
export const processIO: CliIO = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};
