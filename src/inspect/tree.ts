import { Cycle, indexTasks } from './graph';
import { Frame, frameLabel, Snapshot } from './model';

// The await tree as CPython's `pstree` draws it: a task's coroutine frames (outermost first)
// hang under the task, and each task hangs under the innermost frame of the task awaiting it.
// Where CPython gives up on a cycle, this one draws every task and marks where a cycle closes.

export type TreeNode =
  | { kind: 'task'; id: string; name: string; state: string; cycle: string | null; closesCycle: boolean; children: TreeNode[] }
  | { kind: 'frame'; function: string; file: string; line: number; children: TreeNode[] };

const MAX_NODES = 500_000;

/**
 * The tree as a graph over integer nodes: tasks first (in listing order), then awaiters that are
 * not listed tasks, then coroutine frames. A frame node is shared by the tasks awaiting through
 * it, keyed by its label under its parent, as CPython's tool does.
 */
interface Graph {
  tasks: number;
  /** Listed tasks, then other awaiters, in the order they are met. */
  taskIds: string[];
  frames: Array<Frame | undefined>;
  children: number[][];
}

function build(s: Snapshot, index: Map<string, number>): Graph {
  const tasks = s.tasks.length;
  const taskIds = s.tasks.map((t) => t.id);
  const frames: Array<Frame | undefined> = [];
  const children: number[][] = [];
  const others = new Map<string, number>();
  const node = (frame?: Frame): number => {
    children.push([]);
    frames.push(frame);
    return children.length - 1;
  };
  for (let i = 0; i < tasks; i++) node();
  const byLabel = new Map<number, Map<string, number>>();
  const labels = new Map<Frame, string>();
  // A task's frames are laid out once; the innermost is where the tasks it awaits hang.
  const innermost = new Map<number, number>();
  const descend = (from: number, stack: readonly Frame[]): number => {
    let at = innermost.get(from);
    if (at !== undefined) return at;
    at = from;
    for (let i = stack.length - 1; i >= 0; i--) {
      let label = labels.get(stack[i]);
      if (label === undefined) labels.set(stack[i], (label = frameLabel(stack[i])));
      let m = byLabel.get(at);
      if (!m) byLabel.set(at, (m = new Map()));
      let next = m.get(label);
      if (next === undefined) {
        m.set(label, (next = node(stack[i])));
        children[at].push(next);
      }
      at = next;
    }
    innermost.set(from, at);
    return at;
  };
  const awaiting = new Uint8Array(tasks);
  const edges = new Set<number>();
  for (let ti = 0; ti < tasks; ti++) {
    const t = s.tasks[ti];
    for (let pi = 0; pi < t.awaitedBy.length; pi++) {
      const parent = t.awaitedBy[pi];
      let p = index.get(parent) ?? others.get(parent);
      if (p === undefined) {
        p = node();
        others.set(parent, p);
        taskIds[p] = parent;
      }
      if (p < tasks) awaiting[p] = 1;
      const at = descend(p, p < tasks ? s.tasks[p].stack : []);
      const edge = at * (tasks + 1) + ti;
      if (!edges.has(edge)) {
        edges.add(edge);
        children[at].push(ti);
      }
    }
  }
  for (let ti = 0; ti < tasks; ti++) if (!awaiting[ti]) descend(ti, s.tasks[ti].stack);
  return { tasks, taskIds, frames, children };
}

export function buildTree(s: Snapshot, cycles: Cycle[], index = indexTasks(s)): TreeNode[] {
  const g = build(s, index);
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  const nodes = g.children.length;
  const isTask = (k: number): boolean => g.frames[k] === undefined;
  const isChild = new Uint8Array(nodes);
  for (const kids of g.children) for (let i = 0; i < kids.length; i++) isChild[kids[i]] = 1;
  const drawn = new Uint8Array(nodes);
  // Whether each task is on the path being expanded (a task met again there closes a cycle).
  const onPath = new Uint8Array(nodes);
  let count = 0;

  const make = (k: number, closes: boolean): TreeNode => {
    count++;
    const f = g.frames[k];
    if (f) return { kind: 'frame', function: f.function, file: f.file, line: f.line, children: [] };
    const id = g.taskIds[k];
    const t = k < g.tasks ? s.tasks[k] : undefined;
    return {
      kind: 'task', id, name: t ? t.name : `Unknown ${id}`, state: t ? t.state : 'unknown',
      cycle: cycleOf.get(id) ?? null, closesCycle: closes, children: [],
    };
  };

  // Iterative depth-first expansion (await chains can be thousands of tasks deep). A task is
  // on the path from when it is expanded until the exit mark pushed under its children pops.
  const expand = (root: number): TreeNode => {
    const top = make(root, false);
    const work: Array<{ k: number; node: TreeNode | null }> = [{ k: root, node: top }];
    while (work.length > 0) {
      const { k, node } = work.pop()!;
      if (!node) {
        onPath[k]--;
        continue;
      }
      drawn[k] = 1;
      if (isTask(k)) {
        onPath[k]++;
        work.push({ k, node: null });
      }
      const kids = g.children[k];
      const pending: typeof work = [];
      for (let ki = 0; ki < kids.length; ki++) {
        if (count >= MAX_NODES) break;
        const c = kids[ki];
        const closes = isTask(c) && onPath[c] > 0;
        const child = make(c, closes);
        node.children.push(child);
        if (!closes) pending.push({ k: c, node: child });
      }
      for (let i = pending.length - 1; i >= 0; i--) work.push(pending[i]);
    }
    return top;
  };

  const order: number[] = [];
  for (let k = 0; k < nodes; k++) if (isTask(k)) order.push(k);
  const roots: TreeNode[] = [];
  for (const k of order) if (!isChild[k]) roots.push(expand(k));
  for (const k of order) if (!drawn[k]) roots.push(expand(k));
  return roots;
}

function label(n: TreeNode): string {
  if (n.kind === 'frame') return `${n.function} ${n.file}:${n.line}`;
  const mark = n.cycle ? (n.closesCycle ? `  ↺ closes ${n.cycle}` : `  [${n.cycle}]`) : '';
  return `(T) ${n.name}${mark}`;
}

export function renderTree(roots: TreeNode[]): string {
  const out: string[] = [];
  for (const root of roots) {
    const work: Array<{ n: TreeNode; prefix: string; last: boolean }> = [{ n: root, prefix: '', last: true }];
    while (work.length > 0) {
      const { n, prefix, last } = work.pop()!;
      out.push(`${prefix}${last ? '└── ' : '├── '}${label(n)}`);
      const childPrefix = prefix + (last ? '    ' : '│   ');
      for (let i = n.children.length - 1; i >= 0; i--) {
        work.push({ n: n.children[i], prefix: childPrefix, last: i === n.children.length - 1 });
      }
    }
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
