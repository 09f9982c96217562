import { describe, expect, it } from 'vitest';
import { CommitGroup, GROUP_COMMIT_MAX } from '../../../gateway/src/store/group.js';

const turn = () => new Promise((r) => setImmediate(r));
const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('group commit', () => {
  it('commits every batch of one turn together at its end', async () => {
    const commits: number[][] = [];
    const group = new CommitGroup<number>((items) => commits.push(items));
    group.add([1, 2]);
    group.add([3]);
    group.add([]);
    expect(commits).toEqual([]);
    expect(group.size).toBe(3);
    await turn();
    expect(commits).toEqual([[1, 2, 3]]);
    expect(group.size).toBe(0);
    // The next turn starts a new group.
    group.add([4]);
    await turn();
    expect(commits).toEqual([[1, 2, 3], [4]]);
  });

  it('commits at once when a group reaches its bound, in order, and the rest at the end of the turn', async () => {
    const sizes: number[] = [];
    const seen: number[] = [];
    const group = new CommitGroup<number>((items) => {
      sizes.push(items.length);
      seen.push(...items);
    });
    // An overloaded main thread drains far more than one group's worth in one turn.
    for (let i = 0; i < 12; i++) group.add(range(i * 100, 100));
    expect(sizes).toEqual([GROUP_COMMIT_MAX, GROUP_COMMIT_MAX]);
    await turn();
    expect(sizes).toEqual([GROUP_COMMIT_MAX, GROUP_COMMIT_MAX, 1200 - 2 * GROUP_COMMIT_MAX]);
    expect(seen).toEqual(range(0, 1200));
  });

  it('commits at once when asked, and a flush of an empty group commits nothing', async () => {
    const commits: string[][] = [];
    const group = new CommitGroup<string>((items) => commits.push(items), 10);
    group.add(['a']);
    group.add(['b'], true);
    expect(commits).toEqual([['a', 'b']]);
    group.flush();
    await turn();
    expect(commits).toEqual([['a', 'b']]);
    group.add(['c']);
    group.flush();
    await turn();
    // The flush cancelled the end-of-turn commit: 'c' went out once.
    expect(commits).toEqual([['a', 'b'], ['c']]);
  });
});
