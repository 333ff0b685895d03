// `tasklens run`: the program is the process. bin/tasklens asks this code for the interpreter's
// command line (written as a shell snippet to the fd named by TASKLENS_RUN_PLAN_FD) and then
// execs it, so the program keeps the shell's PID, gets signals straight from whoever sends them,
// exits with its own status, and nothing of Node stays resident.
// Started as `node main.js run` (no such fd), Node cannot exec and stays as a wrapper: the agent
// then asks the kernel to kill the program when the wrapper dies, and writes the wrapper's PID
// into its discovery file so that `tasklens ps WRAPPER_PID` finds the program.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { Command } from 'commander';
import { findPython } from '../agent/findPython';
import { UserError } from '../dap/errors';
import { EXIT } from './failure';
import { EXIT_USAGE, planRun, runCommand, UsageError, type RunPlan } from './runArgs';

export function register(program: Command): void {
  const own = runCommand();
  const run = program
    .command('run')
    .description('run a Python program under the tasklens agent (discoverable by ps, attachable with --listen)')
    .usage('[options] (program | -m module) [args...]')
    // The words are read by runArgs.ts, which knows where the program's own words begin.
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options] (program | -m module) [args]')
    .passThroughOptions()
    .action(() => main(process.argv.slice(process.argv.indexOf('run', 2) + 1)));
  run.helpInformation = () => own.helpInformation();
}

async function main(words: string[]): Promise<void> {
  let plan: RunPlan | null;
  try {
    plan = planRun(words, (text) => process.stdout.write(text));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`tasklens run: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  }
  if (plan === null) return;
  if (plan.python === undefined) {
    try {
      const picked = await findPython();
      if (picked.note !== undefined) process.stderr.write(`tasklens run: ${picked.note}\n`);
      plan.python = picked.interpreter.path;
    } catch (err) {
      if (!(err instanceof UserError)) throw err;
      process.stderr.write(`tasklens run: ${err.message}\n`);
      process.exit(EXIT.noPython);
    }
  }
  const planFd = process.env.TASKLENS_RUN_PLAN_FD;
  if (planFd !== undefined) {
    // `run` itself is one more word for the shell to drop.
    fs.writeSync(Number(planFd), execSnippet(plan.python, plan, 1 + plan.consumed));
    return;
  }
  runWrapped(plan.python, [...plan.agentArgs, ...words.slice(plan.consumed)]);
}

/** For bin/tasklens to eval: drop tasklens' words, keep the program's exactly as they came. */
function execSnippet(python: string, plan: RunPlan, drop: number): string {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return `shift ${drop}; set -- ${[python, ...plan.agentArgs].map(quote).join(' ')} "$@"\n`;
}

function runWrapped(python: string, argv: string[]): void {
  const env = { ...process.env, TASKLENS_WRAPPER_PID: String(process.pid) };
  const child = spawn(python, argv, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals) => () => {
    // A Ctrl-C at a terminal already reached the child (same process group); sending it a
    // second one would interrupt its KeyboardInterrupt handling.
    if (signal === 'SIGINT' && process.stdin.isTTY) return;
    child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const handlers = signals.map((signal) => {
    const handler = forward(signal);
    process.on(signal, handler);
    return () => process.off(signal, handler);
  });
  child.on('error', (err) => {
    process.stderr.write(`tasklens run: cannot start ${python}: ${err.message}\n`);
    process.exit(EXIT_USAGE);
  });
  child.on('exit', (code, signal) => {
    for (const off of handlers) off();
    if (signal) {
      process.kill(process.pid, signal);
      // Signals whose default action is not to end the process (none of the usual ones).
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    }
    process.exit(code ?? 0);
  });
}
