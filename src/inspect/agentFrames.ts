// The agent's own code in a process read from memory (one under `tasklens run`, or attached):
// its frames are not the program's. ps, pstree and dump leave them out of every stack, and dump
// leaves out the agent's own threads, as the agent's answers do (`--source agent`), so the two
// sources show the same program.
import type { RawDump } from '../procmem/dump';
import type { Frame, Task } from './model';

/** The agent's package, its launcher, and the bootstrap its children start with. */
export function isAgentFile(file: string): boolean {
  return file.includes('/tasklens_agent/') || /\/agent\/(launch\.py|bootstrap\/sitecustomize\.py)$/.test(file);
}

/** `frames` without the agent's (the same array when it has none of them). */
export function programFrames<T extends Frame>(frames: readonly T[]): readonly T[] {
  return frames.some((f) => isAgentFile(f.file)) ? frames.filter((f) => !isAgentFile(f.file)) : frames;
}

/** A thread that runs the agent's code only: its listener, its control thread, its watchdog. */
export function isAgentThread(stack: readonly Frame[]): boolean {
  return stack.length > 0 && stack.every((f) => isAgentFile(f.file));
}

/** The tasks with their stacks cut to the program's frames. */
export function programTasks(tasks: readonly Task[]): Task[] {
  return tasks.map((t) => {
    const stack = programFrames(t.stack);
    return stack === t.stack ? t : { ...t, stack };
  });
}

/** A dump without the agent's threads, and its stacks (threads' and tasks') without its frames. */
export function programDump(d: RawDump): RawDump {
  return {
    threads: d.threads.filter((th) => !isAgentThread(th.stack)).map((th) => {
      const stack = programFrames(th.stack);
      return stack === th.stack ? th : { ...th, stack: [...stack] };
    }),
    tasks: { ...d.tasks, tasks: programTasks(d.tasks.tasks) },
  };
}
