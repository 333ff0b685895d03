import { Command } from 'commander';
import type { InspectOptions } from '../inspect/options';
import { inspectCommand, inspectImpl } from './ps';

export function register(program: Command): void {
  inspectCommand(program, 'pstree', 'draw the await tree of the asyncio tasks of a running Python process')
    .action((pid: number, o: InspectOptions) => inspectImpl().pstree(pid, o));
}
