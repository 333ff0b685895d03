import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('run')
    .description('(not yet implemented)')
    .action(() => {
      throw new Error('run: not yet implemented');
    });
}
