/**
 * The order of a merged session: one sequence holding every record of several copies, that keeps
 * each copy's own order and does not depend on which copy is which. Pure: no fs.
 *
 * Why not "sort by timestamp": a clock stepped back (I1) would reorder one machine's own entries.
 * Why not "the main file, then what the copies add": the main file is whichever copy the sync tool
 * let win (the newer mtime, I5), so the result would change with a clock +1 h on one machine.
 * Instead each copy says "a comes before b" for its consecutive records; the merge is the
 * topological order of the union of those constraints, ties broken by (timestamp, key). Copies are
 * a set here, so swapping which one is the main file gives the same order. The shared history
 * before the copies diverged is one chain in every copy and comes out unchanged.
 */

/** A record to order: its key (unique across the merge) and timestamp, for ties. */
export interface OrderNode {
  readonly key: string;
  /** ISO timestamp, or '' when the record has none (it then sorts first among ties). */
  readonly ts: string;
}

/** (ts, key) order, by code unit: the same everywhere, unlike localeCompare. */
function before(a: OrderNode, b: OrderNode): boolean {
  if (a.ts !== b.ts) return a.ts < b.ts;
  return a.key < b.key;
}

/** A binary min-heap of node indices. */
class Heap {
  readonly #items: number[] = [];
  readonly #less: (a: number, b: number) => boolean;

  constructor(less: (a: number, b: number) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  push(item: number): void {
    const items = this.#items;
    items.push(item);
    for (let at = items.length - 1; at > 0; ) {
      const parent = (at - 1) >> 1;
      if (!this.#less(items[at] as number, items[parent] as number)) break;
      [items[at], items[parent]] = [items[parent] as number, items[at] as number];
      at = parent;
    }
  }

  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let at = 0; ; ) {
      const left = 2 * at + 1;
      const right = left + 1;
      let least = at;
      if (left < items.length && this.#less(items[left] as number, items[least] as number)) least = left;
      if (right < items.length && this.#less(items[right] as number, items[least] as number)) least = right;
      if (least === at) break;
      [items[at], items[least]] = [items[least] as number, items[at] as number];
      at = least;
    }
    return top;
  }
}

/**
 * Orders `nodes` so that every chain's order is kept, ties broken by (ts, key). `chains` are the
 * copies: node indices in file order, each index at most once per chain. Copies that contradict
 * each other (a cycle: one copy has a before b, another b before a, after a hand edit) cannot all
 * be kept: the earliest node by (ts, key) of those left goes first, so the result is still the
 * same whichever copy is which. Returns node indices.
 */
export function mergeOrder(nodes: readonly OrderNode[], chains: readonly (readonly number[])[]): number[] {
  const n = nodes.length;
  const next: number[][] = Array.from({ length: n }, () => []);
  const waiting = new Array<number>(n).fill(0);
  for (const chain of chains) {
    for (let i = 1; i < chain.length; i++) {
      const from = chain[i - 1] as number;
      const to = chain[i] as number;
      (next[from] as number[]).push(to);
      waiting[to] = (waiting[to] as number) + 1;
    }
  }
  const less = (a: number, b: number): boolean => before(nodes[a] as OrderNode, nodes[b] as OrderNode);
  const ready = new Heap(less);
  for (let i = 0; i < n; i++) if (waiting[i] === 0) ready.push(i);
  const done = new Array<boolean>(n).fill(false);
  // Only for cycles: every node by (ts, key), walked once.
  let byKey: number[] | undefined;
  let cursor = 0;
  const order: number[] = [];
  while (order.length < n) {
    let pick = ready.pop();
    if (pick === undefined) {
      byKey ??= Array.from({ length: n }, (_, i) => i).sort((a, b) => (less(a, b) ? -1 : less(b, a) ? 1 : 0));
      while (done[byKey[cursor] as number] === true) cursor++;
      // The assertion narrows `pick` for the lines below (ESLint reads it as a no-op).
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
      pick = byKey[cursor] as number;
    }
    if (done[pick] === true) continue;
    done[pick] = true;
    order.push(pick);
    for (const to of next[pick] as number[]) {
      waiting[to] = (waiting[to] as number) - 1;
      if (waiting[to] === 0 && done[to] !== true) ready.push(to);
    }
  }
  return order;
}
