export { processIO, type CliCommand, type CliContext, type CliIO } from './command.js';
export {
  createProgram,
  registerCommand,
  registeredCommands,
  BUILTIN_COMMANDS,
  type CreateProgramOptions,
} from './program.js';
export { runCli } from './run.js';
export { loadModelFile, saveModelDir } from './model-files.js';
export { formatInspect, inspectJson, type InspectJson } from './commands/inspect.js';
export { convertAdapter, type ConvertOptions } from './commands/convert.js';
export { mergeAdapterFiles, type MergeOptions } from './commands/merge.js';
