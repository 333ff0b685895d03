import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('dap')
    .description('(not yet implemented)')
    .action(() => {
      throw new Error('dap: not yet implemented');
    });
}
