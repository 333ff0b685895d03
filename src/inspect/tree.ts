import { Cycle } from './graph';
import { Frame, frameLabel, Snapshot, Task } from './model';

// The await tree as CPython's `pstree` draws it: a task's coroutine frames (outermost first)
// hang under the task, and each task hangs under the innermost frame of the task awaiting it.
// Where CPython gives up on a cycle, this one draws every task and marks where a cycle closes.

export type TreeNode =
  | { kind: 'task'; id: string; name: string; state: string; cycle: string | null; closesCycle: boolean; children: TreeNode[] }
  | { kind: 'frame'; function: string; file: string; line: number; children: TreeNode[] };

const MAX_NODES = 500_000;

interface Graph {
  children: Map<string, string[]>;
  frames: Map<string, Frame>;
  order: string[];
}

function build(s: Snapshot): Graph {
  const children = new Map<string, string[]>();
  const frames = new Map<string, Frame>();
  const corByParent = new Map<string, Map<string, string>>();
  const byId = new Map(s.tasks.map((t) => [t.id, t]));
  const order = s.tasks.map((t) => `T${t.id}`);
  let next = 0;
  const kidsOf = (k: string): string[] => {
    let l = children.get(k);
    if (!l) children.set(k, (l = []));
    return l;
  };
  const descend = (from: string, stack: readonly Frame[]): string => {
    let cur = from;
    for (let i = stack.length - 1; i >= 0; i--) {
      const label = frameLabel(stack[i]);
      let m = corByParent.get(cur);
      if (!m) corByParent.set(cur, (m = new Map()));
      let key = m.get(label);
      if (!key) {
        key = `c${++next}`;
        m.set(label, key);
        frames.set(key, stack[i]);
        kidsOf(cur).push(key);
      }
      cur = key;
    }
    return cur;
  };
  const awaiting = new Set<string>();
  const edges = new Set<string>();
  for (let ti = 0; ti < s.tasks.length; ti++) {
    const t = s.tasks[ti];
    for (let pi = 0; pi < t.awaitedBy.length; pi++) {
      const parent = t.awaitedBy[pi];
      awaiting.add(parent);
      if (!byId.has(parent)) order.push(`T${parent}`);
      const at = descend(`T${parent}`, byId.get(parent)?.stack ?? []);
      const edge = `${at}>${t.id}`;
      if (!edges.has(edge)) {
        edges.add(edge);
        kidsOf(at).push(`T${t.id}`);
      }
    }
  }
  for (const t of s.tasks) if (!awaiting.has(t.id)) descend(`T${t.id}`, t.stack);
  return { children, frames, order: [...new Set(order)] };
}

export function buildTree(s: Snapshot, cycles: Cycle[]): TreeNode[] {
  const g = build(s);
  const byId = new Map<string, Task>(s.tasks.map((t) => [t.id, t]));
  const cycleOf = new Map<string, string>();
  for (const c of cycles) for (const id of c.tasks) if (!cycleOf.has(id)) cycleOf.set(id, c.name);
  const isChild = new Set([...g.children.values()].flat());
  const drawn = new Set<string>();
  let count = 0;

  const make = (key: string, closes: boolean): TreeNode => {
    count++;
    const f = g.frames.get(key);
    if (f) return { kind: 'frame', function: f.function, file: f.file, line: f.line, children: [] };
    const id = key.slice(1);
    const t = byId.get(id);
    return {
      kind: 'task', id, name: t ? t.name : `Unknown ${id}`, state: t ? t.state : 'unknown',
      cycle: cycleOf.get(id) ?? null, closesCycle: closes, children: [],
    };
  };

  // Iterative depth-first expansion: await chains can be thousands of tasks deep.
  const expand = (rootKey: string): TreeNode => {
    const root = make(rootKey, false);
    const work: Array<{ key: string; node: TreeNode; path: Set<string> }> = [
      { key: rootKey, node: root, path: new Set([rootKey]) },
    ];
    while (work.length > 0) {
      const { key, node, path } = work.pop()!;
      drawn.add(key);
      const kids = g.children.get(key) ?? [];
      const pending: typeof work = [];
      for (let ki = 0; ki < kids.length; ki++) {
        const k = kids[ki];
        if (count >= MAX_NODES) break;
        const closes = k.startsWith('T') && path.has(k);
        const child = make(k, closes);
        node.children.push(child);
        if (closes) continue;
        const p = k.startsWith('T') ? new Set(path).add(k) : path;
        pending.push({ key: k, node: child, path: p });
      }
      work.push(...pending.reverse());
    }
    return root;
  };

  const roots = g.order.filter((k) => !isChild.has(k)).map((k) => expand(k));
  for (let ki = 0; ki < g.order.length; ki++) {
    const k = g.order[ki];
    if (!drawn.has(k)) roots.push(expand(k));
  }
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
