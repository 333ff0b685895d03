import { Snapshot } from './model';

export interface Cycle {
  /** "cycle 1", "cycle 2", … in the order the tasks were listed. */
  name: string;
  /** Task ids along the cycle: each awaits the next, and the last awaits the first. */
  tasks: string[];
}

/** Task id → position in `s.tasks`: built once and shared by the cycle search and the table. */
export function indexTasks(s: Snapshot): Map<string, number> {
  const index = new Map<string, number>();
  for (let i = 0; i < s.tasks.length; i++) index.set(s.tasks[i].id, i);
  return index;
}

/**
 * The awaited-by graph over dense integer ids, straight from the tasks' `awaitedBy` lists:
 * node v has edges to its awaiters at edges[start[v] .. start[v+1]); nodes below
 * `s.tasks.length` are the tasks, and awaiters that are not listed tasks come after them, with
 * no edges. Strongly connected components do not depend on the direction of the edges, so the
 * cycle search runs on this.
 */
interface AwaitedBy {
  ids: string[];
  start: Int32Array;
  edges: Int32Array;
}

function awaitedByGraph(s: Snapshot, index: Map<string, number>): AwaitedBy {
  const n = s.tasks.length;
  const ids = s.tasks.map((t) => t.id);
  let m = 0;
  for (const t of s.tasks) m += t.awaitedBy.length;
  const start = new Int32Array(n + 1);
  const edges = new Int32Array(m);
  const others = new Map<string, number>();
  let e = 0;
  for (let i = 0; i < n; i++) {
    start[i] = e;
    const awaiters = s.tasks[i].awaitedBy;
    // Indexed loops here and in the table: until V8 optimises it, a for-of loop allocates an
    // iterator result per step, and this code runs once per process, mostly unoptimised.
    for (let ai = 0; ai < awaiters.length; ai++) {
      const a = awaiters[ai];
      let j = index.get(a) ?? others.get(a);
      if (j === undefined) {
        others.set(a, (j = ids.length));
        ids.push(a);
      }
      edges[e++] = j;
    }
  }
  start[n] = e;
  if (ids.length === n) return { ids, start, edges };
  const all = new Int32Array(ids.length + 1).fill(e);
  all.set(start);
  return { ids, start: all, edges };
}

/**
 * Every await cycle, one per strongly connected component (Tarjan's algorithm, iterative so
 * that 100,000 tasks cannot overflow the stack), each given as one concrete loop through it.
 */
export function findCycles(s: Snapshot, taskIndex: Map<string, number> = indexTasks(s)): Cycle[] {
  const g = awaitedByGraph(s, taskIndex);
  const { start, edges } = g;
  const n = g.ids.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack = new Int32Array(n);
  let top = 0;
  const work = new Int32Array(n);
  const cursor = new Int32Array(n);
  const components: number[][] = [];
  let counter = 0;

  for (let root = 0; root < n; root++) {
    if (index[root] >= 0) continue;
    let depth = 0;
    work[0] = root;
    index[root] = low[root] = counter++;
    cursor[root] = start[root];
    stack[top++] = root;
    onStack[root] = 1;
    while (depth >= 0) {
      const v = work[depth];
      if (cursor[v] < start[v + 1]) {
        const w = edges[cursor[v]++];
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          cursor[w] = start[w];
          stack[top++] = w;
          onStack[w] = 1;
          work[++depth] = w;
        } else if (onStack[w] && index[w] < low[v]) {
          low[v] = index[w];
        }
        continue;
      }
      depth--;
      if (depth >= 0 && low[v] < low[work[depth]]) low[work[depth]] = low[v];
      if (low[v] === index[v]) {
        if (stack[top - 1] === v && !awaitsItself(g, v)) {
          // The usual case: a task in no cycle is a component of its own.
          onStack[v] = 0;
          top--;
          continue;
        }
        const comp: number[] = [];
        let w: number;
        do {
          w = stack[--top];
          onStack[w] = 0;
          comp.push(w);
        } while (w !== v);
        components.push(comp);
      }
    }
  }

  return components
    .map((comp) => loopThrough(comp.sort((a, b) => a - b), g))
    .sort((a, b) => a[0] - b[0])
    .map((loop, i) => ({ name: `cycle ${i + 1}`, tasks: loop.map((v) => g.ids[v]) }));
}

function awaitsItself(g: AwaitedBy, v: number): boolean {
  for (let e = g.start[v]; e < g.start[v + 1]; e++) if (g.edges[e] === v) return true;
  return false;
}

/**
 * A shortest loop from the first member back to itself, staying inside the component, along
 * the await direction (awaiter → awaited): each awaiter's edges in listing order of the tasks
 * it awaits.
 */
function loopThrough(comp: number[], g: AwaitedBy): number[] {
  const inside = new Set(comp);
  const awaits = new Map<number, number[]>();
  for (const w of comp) {
    for (let e = g.start[w]; e < g.start[w + 1]; e++) {
      const v = g.edges[e];
      if (!inside.has(v)) continue;
      let l = awaits.get(v);
      if (!l) awaits.set(v, (l = []));
      l.push(w);
    }
  }
  const start = comp[0];
  const prev = new Map<number, number>();
  const queue = [start];
  for (let qi = 0; qi < queue.length; qi++) {
    const v = queue[qi];
    for (const w of awaits.get(v) ?? []) {
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
