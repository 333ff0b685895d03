import { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('pstree')
    .description('(not yet implemented)')
    .action(() => {
      throw new Error('pstree: not yet implemented');
    });
}
