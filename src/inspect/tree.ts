import { detailNote } from './details';
import { Cycle, indexTasks } from './graph';
import { Frame, frameLabel, Snapshot, Task } from './model';
import { cutEnd, cutPath, displayWidth, escapeText } from './text';

// The await tree as CPython's `pstree` draws it: a task's coroutine frames (outermost first)
// hang under the task, and each task hangs under the innermost frame of the task awaiting it.
// Where CPython gives up on a cycle, this one draws every task and marks where a cycle closes.

export type TreeNode =
  | {
    kind: 'task'; id: string; name: string; state: string; cycle: string | null; closesCycle: boolean; children: TreeNode[];
    waitingOn?: string; createdAt?: Task['createdAt']; ageSeconds?: number;
  }
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

/**
 * Draws the tree: calls `visit` for every node in drawing order (depth first, children in
 * order), with the handle `visit` returned for its parent (null for a root) and whether it is
 * its parent's last child. A task met again on its own path is drawn once more, closing the
 * cycle, and not expanded. Iterative: await chains can be thousands of tasks deep.
 */
function draw<H>(s: Snapshot, cycles: Cycle[], index: Map<string, number>,
  visit: (node: DrawnNode, parent: H | null, last: boolean) => H): void {
  const g = build(s, index);
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  const nodes = g.children.length;
  const isTask = (k: number): boolean => g.frames[k] === undefined;
  const isChild = new Uint8Array(nodes);
  for (const kids of g.children) for (let i = 0; i < kids.length; i++) isChild[kids[i]] = 1;
  const drawn = new Uint8Array(nodes);
  // Whether each task is on the path being expanded: from its expansion until the exit mark
  // pushed under its children pops.
  const onPath = new Uint8Array(nodes);
  let count = 0;

  const describe = (k: number, closes: boolean): DrawnNode => {
    const f = g.frames[k];
    if (f) return { frame: f };
    const id = g.taskIds[k];
    return { id, task: k < g.tasks ? s.tasks[k] : undefined, cycle: cycleOf.get(id) ?? null, closes };
  };

  interface Work { k: number; closes: boolean; parent: H | null; last: boolean; exit: boolean }
  const expand = (root: number): void => {
    count++;
    const work: Work[] = [{ k: root, closes: false, parent: null, last: true, exit: false }];
    while (work.length > 0) {
      const { k, closes, parent, last, exit } = work.pop()!;
      if (exit) {
        onPath[k]--;
        continue;
      }
      const handle = visit(describe(k, closes), parent, last);
      if (closes) continue;
      drawn[k] = 1;
      if (isTask(k)) {
        onPath[k]++;
        work.push({ k, closes: false, parent: null, last: false, exit: true });
      }
      const kids = g.children[k];
      let made = 0;
      while (made < kids.length && count < MAX_NODES) {
        made++;
        count++;
      }
      for (let i = made - 1; i >= 0; i--) {
        const c = kids[i];
        work.push({ k: c, closes: isTask(c) && onPath[c] > 0, parent: handle, last: i === made - 1, exit: false });
      }
    }
  };

  const order: number[] = [];
  for (let k = 0; k < nodes; k++) if (isTask(k)) order.push(k);
  for (const k of order) if (!isChild[k]) expand(k);
  for (const k of order) if (!drawn[k]) expand(k);
}

/** A node as `draw` hands it out: a coroutine frame, or a task (listed or not). */
type DrawnNode = { frame: Frame } | { frame?: undefined; id: string; task: Task | undefined; cycle: string | null; closes: boolean };

export function buildTree(s: Snapshot, cycles: Cycle[], index = indexTasks(s)): TreeNode[] {
  const roots: TreeNode[] = [];
  draw<TreeNode>(s, cycles, index, (n, parent) => {
    let node: TreeNode;
    if (n.frame) {
      node = { kind: 'frame', function: n.frame.function, file: n.frame.file, line: n.frame.line, children: [] };
    } else {
      const t = n.task;
      node = {
        kind: 'task', id: n.id, name: t ? t.name : `Unknown ${n.id}`, state: t ? t.state : 'unknown',
        cycle: n.cycle, closesCycle: n.closes, children: [],
      };
      if (t?.waitingOn !== undefined) node.waitingOn = t.waitingOn;
      if (t?.createdAt) node.createdAt = t.createdAt;
      if (t?.ageSeconds !== undefined) node.ageSeconds = t.ageSeconds;
    }
    (parent ? parent.children : roots).push(node);
    return node;
  });
  return roots;
}

// A label never gets narrower than this, however deep the tree: past it the line overflows.
const MIN_LABEL = 12;

/** `function …/file.py:12` within `width`: the path gives way first, from its start, then the function name. */
function frameText(f: Frame, width: number): string {
  const fn = escapeText(f.function);
  const loc = `${escapeText(f.file)}:${f.line}`;
  if (displayWidth(fn) + 1 + displayWidth(loc) <= width) return `${fn} ${loc}`;
  const base = displayWidth(loc.slice(loc.lastIndexOf('/') + 1));
  const short = cutPath(loc, Math.max(width - displayWidth(fn) - 1, Math.min(displayWidth(loc), base + 2)));
  const fnRoom = width - displayWidth(short) - 1;
  if (displayWidth(fn) <= fnRoom) return `${fn} ${short}`;
  return fnRoom >= 4 ? `${cutEnd(fn, fnRoom)} ${short}` : cutEnd(`${fn} ${short}`, width);
}

/** `(T) name [cycle]  (notes)` within `width`: the notes give way first, then the name. */
function taskText(base: string, note: string, width: number): string {
  const full = note ? `${base}  (${note})` : base;
  if (displayWidth(full) <= width) return full;
  const room = width - displayWidth(base) - 2;
  if (note && room >= MIN_LABEL) return `${base}  ${cutEnd(`(${note})`, room)}`;
  return cutEnd(base, width);
}

/**
 * The tree as text, drawn straight from the graph (no tree of objects in between), each line at
 * most `lineWidth` columns where the tree is not too deep for it. Program-supplied text is escaped.
 */
export function treeText(s: Snapshot, cycles: Cycle[], index = indexTasks(s), lineWidth = Infinity): string {
  const out: string[] = [];
  const labels = new Map<Frame, string>();
  // A node's handle is the prefix of its children's lines; every prefix step is 4 columns.
  draw<string>(s, cycles, index, (n, parent, last) => {
    const prefix = parent ?? '';
    const room = Math.max(lineWidth - prefix.length - 4, MIN_LABEL);
    let label: string;
    if (n.frame) {
      if (lineWidth === Infinity) {
        label = labels.get(n.frame) ?? '';
        if (!label) labels.set(n.frame, (label = frameText(n.frame, Infinity)));
      } else {
        label = frameText(n.frame, room);
      }
    } else {
      const mark = n.cycle ? (n.closes ? `  ↺ closes ${n.cycle}` : `  [${n.cycle}]`) : '';
      const note = n.task && !n.closes ? escapeText(detailNote(n.task)) : '';
      label = taskText(`(T) ${escapeText(n.task ? n.task.name : `Unknown ${n.id}`)}${mark}`, note, room);
    }
    out.push(`${prefix}${last ? '└── ' : '├── '}${label}`);
    return prefix + (last ? '    ' : '│   ');
  });
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
