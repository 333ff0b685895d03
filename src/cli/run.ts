// `tasklens run`: runs a Python program under the agent with the terminal's own stdio, so that
// `tasklens ps` can inspect it and, with --listen, an editor can attach.
import { spawn } from 'node:child_process';
import * as os from 'node:os';
import { Command } from 'commander';
import { agentLauncher } from '../agent/paths';

interface RunOptions {
  listen?: string;
  wait: boolean;
  python: string;
  module?: string;
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a Python program under the tasklens agent (discoverable by ps, attachable with --listen)')
    .usage('[options] (program | -m module) [args...]')
    .argument('[program]', 'the Python file to run (omit with -m)')
    .argument('[args...]', 'arguments for the program')
    .option('-m, --module <name>', 'run a module, as `python -m name`')
    .option('--listen <HOST:PORT>', 'wait for a debugger to attach on HOST:PORT (loopback only)')
    .option('--no-wait', 'with --listen: run the program at once instead of waiting for the debugger')
    .option('--python <PATH>', 'the interpreter to use', 'python3')
    .passThroughOptions()
    .addHelpText('after', '\nThe exit code is the program\'s; a program killed by a signal kills tasklens with the same signal.')
    .action((target: string | undefined, args: string[], options: RunOptions) => {
      if (options.module === undefined && target === undefined) {
        program.error('tasklens run: give a program to run, or -m MODULE');
      }
      const rest = options.module !== undefined ? [...(target === undefined ? [] : [target]), ...args] : [target as string, ...args];
      const argv = [agentLauncher()];
      if (options.listen !== undefined) argv.push('--listen', options.listen);
      if (!options.wait) argv.push('--no-wait');
      if (options.module !== undefined) argv.push('--module', options.module);
      argv.push('--', ...rest);
      runChild(options.python, argv);
    });
}

function runChild(python: string, argv: string[]): void {
  const child = spawn(python, argv, { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => () => {
    // A Ctrl-C at a terminal already reached the child (same process group); sending it a
    // second one would interrupt its KeyboardInterrupt handling.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  child.on('error', (err) => {
    process.stderr.write(`tasklens run: cannot start ${python}: ${err.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    if (signal) {
      process.kill(process.pid, signal);
      // Signals whose default action is not to end the process (none of the usual ones).
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    }
    process.exit(code ?? 0);
  });
}
