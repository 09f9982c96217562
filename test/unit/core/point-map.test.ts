import { describe, expect, it } from 'vitest';
import { PointMap } from '../../../gateway/src/core/point-map.js';

describe('PointMap', () => {
  it('answers by device and point, whatever device was looked up before', () => {
    const m = new PointMap<number>();
    expect(m.get('a', 'x')).toBeUndefined();
    // A device missed just before is then added: the next look-up must see it.
    m.set('a', 'x', 1);
    expect(m.get('a', 'x')).toBe(1);
    expect(m.get('a', 'y')).toBeUndefined();
    m.set('a', 'y', 2);
    m.set('b', 'x', 3);
    // Alternating devices, and a point name shared by two devices.
    const asked: [string, string][] = [
      ['a', 'x'],
      ['b', 'x'],
      ['a', 'y'],
      ['a', 'x'],
      ['b', 'y'],
      ['c', 'x'],
      ['b', 'x'],
      ['a', 'y'],
    ];
    expect(asked.map(([d, p]) => m.get(d, p))).toEqual([1, 3, 2, 1, undefined, undefined, 3, 2]);
    // Equal strings that are not the same string find the same value.
    expect(m.get(['a'].join(''), `${'x'}`)).toBe(1);
  });

  it('replaces, deletes and lists the points of a device, the one looked up last included', () => {
    const m = new PointMap<string>();
    m.set('d', 'p', 'one');
    expect(m.get('d', 'p')).toBe('one');
    m.set('d', 'p', 'two');
    expect(m.get('d', 'p')).toBe('two');
    m.set('d', 'q', 'three');
    m.delete('d', 'p');
    expect(m.get('d', 'p')).toBeUndefined();
    expect([...m.pointsOf('d')!]).toEqual([['q', 'three']]);
    m.delete('e', 'p'); // nothing to delete
    expect(m.pointsOf('e')).toBeUndefined();
    // Deleted, then added again while it is the device at hand.
    m.delete('d', 'q');
    expect(m.get('d', 'q')).toBeUndefined();
    m.set('d', 'q', 'four');
    expect(m.get('d', 'q')).toBe('four');
    expect([...m.pointsOf('d')!.keys()]).toEqual(['q']);
  });
});
