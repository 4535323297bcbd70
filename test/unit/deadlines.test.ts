import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { Deadlines } from '../../src/deadlines.js';

describe('Deadlines', () => {
  it('expires entries in order, exactly at their deadline, unless removed', () => {
    const clock = new ManualClock();
    const d = new Deadlines(100, clock);
    const fired: string[] = [];
    d.add(() => fired.push('a'));
    clock.advance(10);
    const b = d.add(() => fired.push('b'));
    clock.advance(10);
    d.add(() => fired.push('c'));
    clock.advance(79.9);
    expect(fired).toEqual([]);
    clock.advance(0.1); // t = 100: a's deadline
    expect(fired).toEqual(['a']);
    d.remove(b);
    clock.advance(20); // t = 120: c's deadline (b was removed)
    expect(fired).toEqual(['a', 'c']);
    expect(clock.pending).toBe(0);
  });

  it('removing every entry leaves at most the one timer, which then finds nothing', () => {
    const clock = new ManualClock();
    const d = new Deadlines(50, clock);
    let fired = 0;
    const entries = Array.from({ length: 1000 }, () => d.add(() => fired++));
    expect(clock.pending).toBe(1);
    for (const e of entries) d.remove(e);
    d.remove(entries[0]!); // twice is harmless
    clock.advance(100);
    expect(fired).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('re-arms for entries added after the first one expired', () => {
    const clock = new ManualClock();
    const d = new Deadlines(10, clock);
    const fired: number[] = [];
    d.add(() => fired.push(clock.now()));
    clock.advance(15);
    d.add(() => fired.push(clock.now()));
    clock.advance(15);
    expect(fired).toEqual([10, 25]);
    d.close();
  });
});
