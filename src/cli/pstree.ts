import { Command } from 'commander';
import { pstreeReport, pstreeText } from '../inspect/report';
import { emit, inspectCommand, InspectOptions, takeSnapshot } from './ps';

export function register(program: Command): void {
  inspectCommand(program, 'pstree', 'draw the await tree of the asyncio tasks of a running Python process')
    .action(async (pid: number, o: InspectOptions) => {
      const report = pstreeReport(await takeSnapshot(pid, o));
      emit(o.json ? `${JSON.stringify(report, null, 2)}\n` : pstreeText(report), report.warnings, !!o.json);
    });
}
