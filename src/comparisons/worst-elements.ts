/**
 * The `capacity` elements with the greatest scores seen so far, kept in a min-heap so that a
 * comparison over millions of failing elements costs O(n log capacity), not a sort.
 */
export class WorstElements {
  private readonly heapIndex: number[] = [];
  private readonly heapScore: number[] = [];

  constructor(private readonly capacity: number) {}

  offer(index: number, score: number): void {
    const size = this.heapIndex.length;
    if (size < this.capacity) {
      this.heapIndex.push(index);
      this.heapScore.push(score);
      this.siftUp(size);
    } else if (size > 0 && score > this.heapScore[0]) {
      this.heapIndex[0] = index;
      this.heapScore[0] = score;
      this.siftDown(0);
    }
  }

  /** The kept indices, greatest score first; equal scores in index order. */
  indices(): number[] {
    const order = this.heapIndex.map((index, k) => ({ index, score: this.heapScore[k] }));
    order.sort((a, b) => b.score - a.score || a.index - b.index);
    return order.map((entry) => entry.index);
  }

  private less(a: number, b: number): boolean {
    const [sa, sb] = [this.heapScore[a], this.heapScore[b]];
    // Among equal scores the later index is the smaller, so that the earliest ones are kept.
    return sa < sb || (sa === sb && this.heapIndex[a] > this.heapIndex[b]);
  }

  private swap(a: number, b: number): void {
    [this.heapIndex[a], this.heapIndex[b]] = [this.heapIndex[b], this.heapIndex[a]];
    [this.heapScore[a], this.heapScore[b]] = [this.heapScore[b], this.heapScore[a]];
  }

  private siftUp(k: number): void {
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!this.less(k, parent)) return;
      this.swap(k, parent);
      k = parent;
    }
  }

  private siftDown(k: number): void {
    const size = this.heapIndex.length;
    for (;;) {
      const left = 2 * k + 1;
      const right = left + 1;
      let smallest = k;
      if (left < size && this.less(left, smallest)) smallest = left;
      if (right < size && this.less(right, smallest)) smallest = right;
      if (smallest === k) return;
      this.swap(k, smallest);
      k = smallest;
    }
  }
}
