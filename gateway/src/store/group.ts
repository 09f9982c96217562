/**
 * Group commit: batches accepted in one turn of the event loop are committed together at the end
 * of that turn, or at once when the group reaches its bound. The replies of many devices that
 * arrive together cost one transaction, and nothing waits longer than the turn.
 *
 * The bound matters on an overloaded main thread, which drains thousands of readings in one turn:
 * each reading stays alive until its group is committed, and readings that outlive a young-
 * generation collection are promoted and cost a full collection later (docs/store.md, "Appending
 * and durability").
 */

/** Readings a group holds before it is committed at once. */
export const GROUP_COMMIT_MAX = 500;

export class CommitGroup<T> {
  private items: T[] = [];
  private timer: NodeJS.Immediate | undefined;

  /** `commit` gets each group in the order its items were added; it must not throw. */
  constructor(
    private readonly commit: (items: T[]) => void,
    private readonly max = GROUP_COMMIT_MAX,
  ) {}

  /** Adds `items`; commits now when the group is full (or `now`), else at the end of the turn. */
  add(items: Iterable<T>, now = false): void {
    for (const item of items) this.items.push(item);
    if (now || this.items.length >= this.max) this.flush();
    else this.timer ??= setImmediate(() => this.flush());
  }

  /** Commits what the group holds, if anything. */
  flush(): void {
    clearImmediate(this.timer);
    this.timer = undefined;
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    this.commit(items);
  }

  /** Readings waiting for the end of the turn. */
  get size(): number {
    return this.items.length;
  }
}
