// The tfjs-lora command line: a commander program with the built-in commands and a registry through which
// other packages add theirs (e.g. `train`), without this package depending on them.
import { Command } from 'commander';
import { processIO, type CliCommand, type CliContext, type CliIO } from './command.js';
import { convertCommand } from './commands/convert.js';
import { inspectCommand } from './commands/inspect.js';
import { mergeCommand } from './commands/merge.js';
import { trainCommand } from './commands/train.js';

const registry: CliCommand[] = [];

/**
 * Adds a command to every program made by {@link createProgram} afterwards (a package such as a future
 * `@tfjs-lora/train` calls this from its entry). Registering a name twice replaces the earlier command.
 */
export function registerCommand(command: CliCommand): void {
  const i = registry.findIndex((c) => c.name === command.name);
  if (i >= 0) registry.splice(i, 1);
  registry.push(command);
}

/** The commands registered so far (built-ins excluded). */
export function registeredCommands(): readonly CliCommand[] {
  return [...registry];
}

/** The built-in commands. */
export const BUILTIN_COMMANDS: readonly CliCommand[] = [inspectCommand, mergeCommand, convertCommand, trainCommand];

/** Options of {@link createProgram}. */
export interface CreateProgramOptions {
  io?: CliIO;
  /** Extra commands for this program only (in addition to the registered ones). */
  commands?: readonly CliCommand[];
}

/**
 * The `tfjs-lora` program: built-in commands, registered commands, `--verbose`, `--help` everywhere.
 * Errors throw (commander's `exitOverride`) so that {@link runCli} decides how they are reported.
 */
export function createProgram(options: CreateProgramOptions = {}): Command {
  const io = options.io ?? processIO;
  const program = new Command('tfjs-lora');
  program
    .description(
      'Inspect, merge and convert Hugging Face PEFT LoRA adapters for TensorFlow.js, and run LoRA training experiments',
    )
    .option('--verbose', 'print details and, on errors, the stack trace')
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run with --help for usage)');
  const ctx: CliContext = { io, verbose: () => program.opts<{ verbose?: boolean }>().verbose === true };
  const names = new Set<string>();
  for (const command of [...BUILTIN_COMMANDS, ...registry, ...(options.commands ?? [])]) {
    if (names.has(command.name)) continue;
    names.add(command.name);
    command.register(program, ctx);
  }
  return program;
}
