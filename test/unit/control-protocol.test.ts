import { describe, expect, it } from 'vitest';
import { parseCommand, REPLY, runCommand, type ControlCommand } from '../../src/control/protocol.js';
import type { FetchControl } from '../../src/control/fetch-control.js';

describe('parseCommand', () => {
  it.each<[string, ControlCommand]>([
    ['PING', { kind: 'ping' }],
    ['ping', { kind: 'ping' }],
    ['  PiNg \t', { kind: 'ping' }],
    ['SHUTDOWN', { kind: 'shutdown' }],
    ['help', { kind: 'help' }],
    ['Stats', { kind: 'stats' }],
    ['pause', { kind: 'pause' }],
    ['RESUME', { kind: 'resume' }],
    ['', { kind: 'unknown' }],
    ['   ', { kind: 'unknown' }],
    ['PONG', { kind: 'unknown' }],
    ['PING extra', { kind: 'unknown' }],
    ['p\u0131ng', { kind: 'unknown' }], // dotless i must not fold to PING
    ['\u0000\u00ff garbage', { kind: 'unknown' }],
    ['__proto__', { kind: 'unknown' }],
    ['constructor', { kind: 'unknown' }],
    ['AUTH s3cret', { kind: 'auth', secret: 's3cret' }],
    ['auth   two words  ', { kind: 'auth', secret: 'two words' }],
    ['AUTH', { kind: 'auth', secret: '' }],
    ['SET RATE 100', { kind: 'set-rate', perSec: 100 }],
    ['set rate 100/s', { kind: 'set-rate', perSec: 100 }],
    ['SET RATE 6000/m Example.COM', { kind: 'set-rate', perSec: 100, host: 'example.com' }],
    ['SET RATE 2.5 localhost:8080', { kind: 'set-rate', perSec: 2.5, host: 'localhost:8080' }],
    ['SET RATE 1 [::1]:80', { kind: 'set-rate', perSec: 1, host: '[::1]:80' }],
    ['SET RATE off', { kind: 'set-rate', perSec: Infinity }],
    ['SET RATE Unlimited a.b', { kind: 'set-rate', perSec: Infinity, host: 'a.b' }],
    ['SET CONCURRENCY 8', { kind: 'set-concurrency', n: 8 }],
    ['set Concurrency 1 API.example.com', { kind: 'set-concurrency', n: 1, host: 'api.example.com' }],
    ['SET RATE 0', { kind: 'invalid' }],
    ['SET RATE -1', { kind: 'invalid' }],
    ['SET RATE abc', { kind: 'invalid' }],
    ['SET RATE 10/fortnight', { kind: 'invalid' }],
    ['SET RATE', { kind: 'invalid' }],
    ['SET RATE 10 host extra', { kind: 'invalid' }],
    ['SET RATE 10 bad/host', { kind: 'invalid' }],
    ['SET CONCURRENCY 0', { kind: 'invalid' }],
    ['SET CONCURRENCY 1.5', { kind: 'invalid' }],
    ['SET CONCURRENCY 99999999999999999999', { kind: 'invalid' }],
    ['SET CONCURRENCY many', { kind: 'invalid' }],
    ['SET', { kind: 'unknown' }],
    ['SET SPEED 10', { kind: 'unknown' }],
  ])('%j -> %j', (line, expected) => {
    expect(parseCommand(line)).toEqual(expected);
  });
});

function fakeControl(): FetchControl & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    stats: () => ({ done: 3, note: 'a\nb' }),
    pause: () => void calls.push(['pause']),
    resume: () => void calls.push(['resume']),
    setRate: (...args) => void calls.push(['setRate', ...args]),
    setConcurrency: (...args) => void calls.push(['setConcurrency', ...args]),
    shutdown: () => void calls.push(['shutdown']),
  };
}

describe('runCommand', () => {
  it.each<[string, string, unknown[][]]>([
    ['PING', 'PONG', []],
    ['HELP', 'OK PING SHUTDOWN HELP STATS PAUSE RESUME SET AUTH', []],
    ['nope', 'ERR unknown command', []],
    ['SET RATE x', 'ERR invalid value', []],
    ['STATS', '{"done":3,"note":"a\\nb"}', []],
    ['PAUSE', 'OK', [['pause']]],
    ['RESUME', 'OK', [['resume']]],
    ['SET RATE 10', 'OK', [['setRate', 10]]],
    ['SET RATE 60/m Host.Example', 'OK', [['setRate', 1, 'host.example']]],
    ['SET CONCURRENCY 4', 'OK', [['setConcurrency', 4]]],
    ['SET CONCURRENCY 2 h', 'OK', [['setConcurrency', 2, 'h']]],
  ])('with a fetch: %j -> %j', (line, reply, calls) => {
    const control = fakeControl();
    expect(runCommand(parseCommand(line), control)).toBe(reply);
    expect(control.calls).toEqual(calls);
  });

  it.each(['STATS', 'PAUSE', 'RESUME', 'SET RATE 1', 'SET CONCURRENCY 1 h'])('without a fetch: %j -> ERR not running a fetch', (line) => {
    expect(runCommand(parseCommand(line), undefined)).toBe(REPLY.notRunningFetch);
  });

  it('answers PING and HELP without a fetch', () => {
    expect(runCommand(parseCommand('ping'), undefined)).toBe('PONG');
    expect(runCommand(parseCommand('help'), undefined)).toBe(REPLY.help);
  });
});
