// Coroutine stacks shared between tasks: 10,000 tasks parked at the same await then cost one
// array, not 10,000. A trie keyed by frame records (themselves shared per instruction).
import type { Frame } from '../inspect/model';

interface Node {
  frames: readonly Frame[];
  next: Map<Frame, Node> | null;
}

export class StackInterner {
  private readonly root: Node = { frames: [], next: null };

  /** The frames of `chain[0..length)` (outermost first) as a shared array, innermost first. */
  intern(chain: readonly Frame[], length: number): readonly Frame[] {
    let node = this.root;
    for (let i = length - 1; i >= 0; i--) {
      const f = chain[i];
      if (!node.next) node.next = new Map();
      let child = node.next.get(f);
      if (!child) {
        child = { frames: [...node.frames, f], next: null };
        node.next.set(f, child);
      }
      node = child;
    }
    return node.frames;
  }
}
