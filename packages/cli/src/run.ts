import { CommanderError } from 'commander';
import { processIO, type CliIO } from './command.js';
import { createProgram, type CreateProgramOptions } from './program.js';

/** One line: the message without line breaks. */
function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * Runs the CLI on `argv` (the arguments after the program name) and returns the exit code: 0 on success,
 * 1 when a command fails (one `error: ...` line on stderr; the stack too with `--verbose`), commander's
 * code for usage errors (its message is already printed).
 */
export async function runCli(argv: readonly string[], options: CreateProgramOptions = {}): Promise<number> {
  const io: CliIO = options.io ?? processIO;
  const program = createProgram({ ...options, io });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    io.err(`error: ${oneLine(e)}\n`);
    if (argv.includes('--verbose') && e instanceof Error && e.stack) io.err(`${e.stack}\n`);
    return 1;
  }
}
