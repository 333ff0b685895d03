import { Snapshot } from './model';

export interface Cycle {
  /** "cycle 1", "cycle 2", … in the order the tasks were listed. */
  name: string;
  /** Task ids along the cycle: each awaits the next, and the last awaits the first. */
  tasks: string[];
}

/** awaiter id → ids of the tasks it awaits, in snapshot order. */
export function awaitEdges(s: Snapshot): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const t of s.tasks) {
    for (const parent of t.awaitedBy) {
      const kids = g.get(parent) ?? [];
      if (!kids.includes(t.id)) kids.push(t.id);
      g.set(parent, kids);
    }
  }
  return g;
}

/**
 * Every await cycle, one per strongly connected component (Tarjan's algorithm, iterative so
 * that 100,000 tasks cannot overflow the stack), each given as one concrete loop through it.
 */
export function findCycles(s: Snapshot): Cycle[] {
  const g = awaitEdges(s);
  const nodes = [...new Set([...s.tasks.map((t) => t.id), ...g.keys()])];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;

  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: Array<{ v: string; i: number }> = [{ v: root, i: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1];
      const kids = g.get(top.v) ?? [];
      if (top.i < kids.length) {
        const w = kids[top.i++];
        if (!index.has(w)) {
          index.set(w, counter);
          low.set(w, counter++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, index.get(w)!));
        }
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1].v;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!));
      }
      if (low.get(top.v) === index.get(top.v)) {
        const comp: string[] = [];
        let w: string;
        do {
          w = stack.pop()!;
          onStack.delete(w);
          comp.push(w);
        } while (w !== top.v);
        const selfLoop = comp.length === 1 && (g.get(comp[0]) ?? []).includes(comp[0]);
        if (comp.length > 1 || selfLoop) components.push(comp);
      }
    }
  }

  const order = new Map(nodes.map((n, i) => [n, i]));
  return components
    .map((comp) => loopThrough(comp.sort((a, b) => order.get(a)! - order.get(b)!), g))
    .sort((a, b) => order.get(a[0])! - order.get(b[0])!)
    .map((tasks, i) => ({ name: `cycle ${i + 1}`, tasks }));
}

/** A shortest loop from the first member back to itself, staying inside the component. */
function loopThrough(comp: string[], g: Map<string, string[]>): string[] {
  const inside = new Set(comp);
  const start = comp[0];
  const prev = new Map<string, string>();
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    for (const w of g.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(prev.get(path[0])!);
        return path;
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return comp;
}
