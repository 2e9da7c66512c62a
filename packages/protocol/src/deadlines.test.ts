import { describe, expect, it } from 'vitest';
import { Deadlines, MAX_TIMER_DELAY, checkTimeout, timerDelay } from './deadlines.js';
import { ManualClock } from './testing.js';

type Name = 'idle' | 'head' | 'request';
const NAMES: readonly Name[] = ['idle', 'head', 'request'];

function setup(): { clock: ManualClock; d: Deadlines<Name>; fired: [Name, number][] } {
  const clock = new ManualClock();
  const fired: [Name, number][] = [];
  const d = new Deadlines<Name>(clock, NAMES, (name) => fired.push([name, clock.now()]));
  return { clock, d, fired };
}

describe('Deadlines', () => {
  it('fires a deadline once, at its time, not before', () => {
    const { clock, d, fired } = setup();
    d.after('idle', 100);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['idle', 100]]);
    clock.advance(1000);
    expect(fired).toEqual([['idle', 100]]);
    expect(d.has('idle')).toBe(false);
  });

  it('a deadline moved later fires at its new time, with one timer armed', () => {
    const { clock, d, fired } = setup();
    d.after('idle', 100);
    for (let t = 10; t <= 90; t += 10) {
      clock.advance(10);
      d.after('idle', 100);
    }
    expect(clock.pending).toBe(1);
    clock.advance(99);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['idle', 190]]);
  });

  it('a cleared deadline never fires; the early timer re-arms for what is pending', () => {
    const { clock, d, fired } = setup();
    d.after('head', 50);
    d.after('request', 300);
    d.clear('head');
    clock.advance(299);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([['request', 300]]);
    expect(clock.pending).toBe(0);
  });

  it('an earlier deadline re-arms the timer', () => {
    const { clock, d, fired } = setup();
    d.after('idle', 1000);
    d.after('head', 10);
    clock.advance(10);
    expect(fired).toEqual([['head', 10]]);
    clock.advance(990);
    expect(fired).toEqual([['head', 10], ['idle', 1000]]);
  });

  it('deadlines due together fire in the order of the names', () => {
    const { clock, d, fired } = setup();
    d.after('request', 5);
    d.after('idle', 5);
    clock.advance(5);
    expect(fired.map(([n]) => n)).toEqual(['idle', 'request']);
  });

  it('Infinity and NaN mean none', () => {
    const { clock, d, fired } = setup();
    d.after('idle', Number.POSITIVE_INFINITY);
    d.at('head', Number.NaN);
    expect(clock.pending).toBe(0);
    clock.advance(MAX_TIMER_DELAY * 3);
    expect(fired).toEqual([]);
  });

  it('a deadline past what a host timer holds fires at its time, in steps, never early', () => {
    const { clock, d, fired } = setup();
    const far = MAX_TIMER_DELAY * 2 + 5;
    d.after('idle', far);
    clock.advance(MAX_TIMER_DELAY);
    expect(fired).toEqual([]);
    clock.advance(MAX_TIMER_DELAY);
    expect(fired).toEqual([]);
    clock.advance(5);
    expect(fired).toEqual([['idle', far]]);
  });

  it('stop() clears the timer; nothing fires or arms after', () => {
    const { clock, d, fired } = setup();
    d.after('idle', 10);
    d.stop();
    expect(clock.pending).toBe(0);
    d.after('head', 10);
    clock.advance(100);
    expect(fired).toEqual([]);
  });

  it('a callback may set deadlines or stop', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const d: Deadlines<Name> = new Deadlines<Name>(clock, NAMES, (name) => {
      fired.push(name);
      if (name === 'head') d.after('request', 10);
      if (name === 'request') d.stop();
    });
    d.after('head', 10);
    d.after('idle', 15);
    d.after('request', 50);
    clock.advance(100);
    // head (10) moves request to 20; idle (15); request (20) stops everything.
    expect(fired).toEqual(['head', 'idle', 'request']);
    expect(clock.now()).toBe(100);
  });

  it('an unknown name is a RangeError', () => {
    const { d } = setup();
    expect(() => d.after('other' as Name, 1)).toThrow(RangeError);
  });
});

describe('timerDelay and checkTimeout', () => {
  it.each([
    [0, 1],
    [0.2, 1],
    [1.5, 2],
    [1000, 1000],
    [MAX_TIMER_DELAY, MAX_TIMER_DELAY],
    [MAX_TIMER_DELAY + 1, MAX_TIMER_DELAY],
    [Number.POSITIVE_INFINITY, MAX_TIMER_DELAY],
    [-5, 1],
  ])('timerDelay(%s) = %s', (ms, delay) => {
    expect(timerDelay(ms)).toBe(delay);
  });

  it.each([0, 1, 2 ** 40, Number.POSITIVE_INFINITY])('checkTimeout accepts %s', (v) => {
    expect(checkTimeout('timeout', v)).toBe(v);
  });

  it.each([-1, Number.NaN, Number.NEGATIVE_INFINITY, '5', null])('checkTimeout refuses %s with a RangeError naming the option', (v) => {
    expect(() => checkTimeout('lingerTimeout', v)).toThrow(/lingerTimeout/);
  });
});
