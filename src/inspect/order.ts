// One order for the tasks of a snapshot, whichever source read them: a memory read lists each
// thread's tasks in creation order, the agent in the order of a weak set. Tasks are grouped by
// the thread running their loop (threads in the order their first task was created, ended
// threads last), then laid out as the await tree is drawn: a task, then the tasks it awaits.
import { Snapshot, Task } from './model';

/** Creation order: the agent's ages when it gave them (oldest first), else the order as read. */
function byCreation(tasks: Task[]): Task[] {
  if (!tasks.some((t) => t.ageSeconds !== undefined)) return tasks;
  const at = new Map<Task, number>(tasks.map((t, i) => [t, i]));
  return [...tasks].sort((a, b) => (b.ageSeconds ?? -1) - (a.ageSeconds ?? -1) || at.get(a)! - at.get(b)!);
}

export function orderTasks(s: Snapshot): Snapshot {
  const created = byCreation(s.tasks);
  const index = new Map<string, Task>();
  for (const t of created) index.set(t.id, t);
  // What each task awaits: the reverse of `awaitedBy`, children in creation order.
  const awaits = new Map<Task, Task[]>();
  const awaited = new Set<Task>();
  for (const t of created) {
    for (const parentId of t.awaitedBy) {
      const parent = index.get(parentId);
      if (!parent || parent === t) continue;
      let kids = awaits.get(parent);
      if (!kids) awaits.set(parent, (kids = []));
      kids.push(t);
      awaited.add(t);
    }
  }
  const inTreeOrder: Task[] = [];
  const seen = new Set<Task>();
  const visit = (root: Task): void => {
    const stack = [root];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (seen.has(t)) continue;
      seen.add(t);
      inTreeOrder.push(t);
      const kids = awaits.get(t);
      if (kids) for (let i = kids.length - 1; i >= 0; i--) if (!seen.has(kids[i])) stack.push(kids[i]);
    }
  };
  for (const t of created) if (!awaited.has(t)) visit(t);
  // Tasks inside an await cycle have no root: each cycle starts at its oldest task.
  for (const t of created) visit(t);
  // One bucket per thread, made in the order the threads' first tasks were created.
  const byThread = new Map<number, Task[]>();
  for (const t of created) if (!byThread.has(t.threadId)) byThread.set(t.threadId, []);
  for (const t of inTreeOrder) byThread.get(t.threadId)!.push(t);
  const ended = byThread.get(0) ?? [];
  byThread.delete(0);
  const tasks = [...byThread.values(), ended].flat();
  return { ...s, tasks };
}
