import { Snapshot } from './model';

export interface Cycle {
  /** "cycle 1", "cycle 2", … in the order the tasks were listed. */
  name: string;
  /** Task ids along the cycle: each awaits the next, and the last awaits the first. */
  tasks: string[];
}

/** awaiter id → ids of the tasks it awaits, in snapshot order. */
export function awaitEdges(s: Snapshot): Map<string, string[]> {
  const g = new Map<string, Set<string>>();
  for (const t of s.tasks) {
    for (const parent of t.awaitedBy) {
      let kids = g.get(parent);
      if (!kids) g.set(parent, (kids = new Set()));
      kids.add(t.id);
    }
  }
  return new Map([...g].map(([k, v]) => [k, [...v]]));
}

/** The await graph over dense integer ids: adjacency in compressed rows, awaiter → awaited. */
interface Dense {
  ids: string[];
  start: Int32Array;
  edges: Int32Array;
}

function dense(s: Snapshot): Dense {
  const index = new Map<string, number>();
  const ids: string[] = [];
  const idOf = (id: string): number => {
    let i = index.get(id);
    if (i === undefined) {
      index.set(id, (i = ids.length));
      ids.push(id);
    }
    return i;
  };
  for (const t of s.tasks) idOf(t.id);
  const from: number[] = [];
  const to: number[] = [];
  for (const t of s.tasks) {
    const child = idOf(t.id);
    for (const parent of t.awaitedBy) {
      from.push(idOf(parent));
      to.push(child);
    }
  }
  const start = new Int32Array(ids.length + 1);
  for (const f of from) start[f + 1]++;
  for (let i = 0; i < ids.length; i++) start[i + 1] += start[i];
  const fill = start.slice(0, ids.length);
  const edges = new Int32Array(from.length);
  for (let e = 0; e < from.length; e++) edges[fill[from[e]]++] = to[e];
  return { ids, start, edges };
}

/**
 * Every await cycle, one per strongly connected component (Tarjan's algorithm, iterative so
 * that 100,000 tasks cannot overflow the stack), each given as one concrete loop through it.
 */
export function findCycles(s: Snapshot): Cycle[] {
  const g = dense(s);
  const n = g.ids.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const work = new Int32Array(n);
  const cursor = new Int32Array(n);
  const components: number[][] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    let depth = 0;
    work[0] = root;
    index[root] = low[root] = counter++;
    cursor[root] = g.start[root];
    stack.push(root);
    onStack[root] = 1;
    while (depth >= 0) {
      const v = work[depth];
      if (cursor[v] < g.start[v + 1]) {
        const w = g.edges[cursor[v]++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          cursor[w] = g.start[w];
          stack.push(w);
          onStack[w] = 1;
          work[++depth] = w;
        } else if (onStack[w]) {
          low[v] = Math.min(low[v], index[w]);
        }
        continue;
      }
      depth--;
      if (depth >= 0) low[work[depth]] = Math.min(low[work[depth]], low[v]);
      if (low[v] === index[v]) {
        const comp: number[] = [];
        let w: number;
        do {
          w = stack.pop()!;
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        if (comp.length > 1 || hasEdge(g, v, v)) components.push(comp);
      }
    }
  }

  return components
    .map((comp) => loopThrough(comp.sort((a, b) => a - b), g))
    .sort((a, b) => a[0] - b[0])
    .map((loop, i) => ({ name: `cycle ${i + 1}`, tasks: loop.map((v) => g.ids[v]) }));
}

function hasEdge(g: Dense, from: number, to: number): boolean {
  for (let e = g.start[from]; e < g.start[from + 1]; e++) if (g.edges[e] === to) return true;
  return false;
}

/** A shortest loop from the first member back to itself, staying inside the component. */
function loopThrough(comp: number[], g: Dense): number[] {
  const inside = new Set(comp);
  const start = comp[0];
  const prev = new Map<number, number>();
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    for (let e = g.start[v]; e < g.start[v + 1]; e++) {
      const w = g.edges[e];
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
