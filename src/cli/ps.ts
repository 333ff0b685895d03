import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('ps')
    .description('(not yet implemented)')
    .action(() => {
      throw new Error('ps: not yet implemented');
    });
}
