/**
 * The `longrl` command. User errors (bad input, unreachable server, missing tools) print one
 * line `longrl: ...` and exit 2; anything else is a bug and prints its stack (exit 1).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, CommanderError } from 'commander';
import { projectRoot } from '../infra/temporal/acquire';
import { UserError } from '../infra/errors';
import { registerInfraCommands } from './commands/infra';
import { registerTrainCommand } from './commands/train';
import { registerRunsCommands } from './commands/runs';
import { registerEvalCommand } from './commands/eval';
import { registerRewardCommand } from './commands/reward';

export function buildProgram(): Command {
  const program = new Command('longrl')
    .description('QwenLong-L1 long-context reasoning RL as durable Temporal workflows')
    .version((JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version)
    .exitOverride()
    .showHelpAfterError();
  registerInfraCommands(program);
  registerTrainCommand(program);
  registerRunsCommands(program);
  registerEvalCommand(program);
  registerRewardCommand(program);
  return program;
}

/**
 * A user error: ours (UserError), one that marks itself `userFacing`, or a typed error of
 * our own layers (config, data, checkpoints, judge) whose message already says what to do.
 */
function isUserError(err: unknown): boolean {
  if (err instanceof UserError) return true;
  if (typeof err !== 'object' || err === null) return false;
  if ((err as { userFacing?: boolean }).userFacing === true) return true;
  return USER_FACING_NAMES.has((err as Error).name);
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode;
      return;
    }
    if (isUserError(err)) {
      process.stderr.write(`longrl: ${(err as Error).message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`longrl: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

const USER_FACING_NAMES = new Set([
  'ConfigError', 'CorruptArtifactError', 'DiskFullError', 'ArtifactNotFoundError',
  'CheckpointMissingError', 'CheckpointShapeError', 'CheckpointArchitectureError', 'SafetensorsFormatError',
  'ModelConfigError', 'TokenizerFormatError', 'TokenOutOfVocabError', 'SamplingOptionError',
]);

if (require.main === module) void main(process.argv.slice(2));
