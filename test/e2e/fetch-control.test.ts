// The control port of a running `ratelimmq fetch --control-port 0`, driven over TCP while the
// built binary (run `npx tsc -p .` first) fetches from a slow-ish recording server. Effects are
// checked where they happen: at the server (requests, in-flight gauge) and in the results.
import { afterEach, describe, expect, it } from 'vitest';
import { delay, startRecordingServer, writeUrlFile, type RecordingServer } from '../helpers/servers.js';
import {
  connectControl,
  parseReport,
  parseResults,
  startCli,
  within,
  type CliProcess,
  type ControlClient,
} from '../helpers/fetch-helpers.js';

const toClose: Array<{ close(): Promise<void> }> = [];
const children: CliProcess[] = [];
const clients: ControlClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const c of children.splice(0)) c.kill();
  await Promise.all(toClose.splice(0).map((s) => s.close()));
});

interface Run {
  server: RecordingServer;
  cli: CliProcess;
  ctl: ControlClient;
  port: number;
  /** Server-side in-flight count (including itself) when each request arrived, by arrival index. */
  inFlightAtArrival: number[];
}

/**
 * Starts a fetch of `urls` URLs against a server answering after `delayMs`, with the control port
 * on, and connects a control client once the first requests are in flight.
 */
async function startFetch(o: { urls?: number; delayMs?: number; concurrency?: number; args?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  const { urls = 200, delayMs = 100, concurrency = 4, args = [], env = {} } = o;
  const inFlightAtArrival: number[] = [];
  const answer = delay(delayMs);
  const server: RecordingServer = await startRecordingServer((req, res, info) => {
    inFlightAtArrival[info.n] = server.inFlight.global.current;
    return answer(req, res, info);
  });
  toClose.push(server);
  const file = await writeUrlFile(Array.from({ length: urls }, (_, i) => server.url(`/${i}`)));
  const cli = startCli(['fetch', file, '--control-port', '0', '-c', String(concurrency), '--report', 'json', ...args], {
    env: { RATELIMMQ_CONTROL_TOKEN: '', ...env },
  });
  children.push(cli);
  const port = await cli.controlPort();
  const ctl = await connectControl(port);
  clients.push(ctl);
  await within(server.waitForRequests(1), 10_000, 'the first request');
  return { server, cli, ctl, port, inFlightAtArrival };
}

async function stats(ctl: ControlClient): Promise<Record<string, any>> {
  const line = await ctl.ask('STATS');
  return JSON.parse(line) as Record<string, any>;
}

/** Ends a run through SHUTDOWN and returns its exit. */
async function shutdown(run: Run) {
  expect(await run.ctl.ask('SHUTDOWN')).toBe('BYE');
  return run.cli.exited;
}

describe('fetch --control-port', () => {
  it('prints the port, answers PING, and STATS reflects progress', async () => {
    const run = await startFetch();
    expect(run.cli.stderr).toMatch(/^control listening on 127\.0\.0\.1:\d+$/m);
    expect(await run.ctl.ask('PING')).toBe('PONG');

    const first = await stats(run.ctl);
    for (const k of ['done', 'in_flight', 'queued', 'read', 'retries_waiting', 'paused']) expect(first).toHaveProperty(k);
    expect(first.in_flight).toBeLessThanOrEqual(4);
    expect(first.done + first.in_flight + first.queued + first.retries_waiting).toBe(first.read);

    // Some more URLs finish; STATS moves with them.
    await run.cli.waitFor((out) => parseResults(out).length >= first.done + 6, 'six more results');
    const later = await stats(run.ctl);
    expect(later.done).toBeGreaterThanOrEqual(first.done + 6);
    expect(later.done + later.in_flight + later.queued + later.retries_waiting).toBe(later.read);
    expect(later.done + later.in_flight).toBeGreaterThan(first.done + first.in_flight);

    const exit = await shutdown(run);
    expect(exit.code).toBe(0);
  });

  it('PAUSE: no new requests once in-flight ones finish; RESUME continues', async () => {
    const run = await startFetch();
    expect(await run.ctl.ask('PAUSE')).toBe('OK');
    const atPause = await stats(run.ctl);
    expect(atPause.paused).toBe(true);
    // What was in flight finishes; nothing else starts.
    const settled = atPause.done + atPause.in_flight;
    await run.cli.waitFor((out) => parseResults(out).length >= settled, 'the in-flight requests to finish');
    const seen = run.server.requests.length;
    expect(seen).toBe(settled); // one request per URL started, no retries against this server
    // An observation window: "nothing arrives" cannot be waited for, only watched (3 server delays).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(run.server.requests.length).toBe(seen);
    const paused = await stats(run.ctl);
    expect(paused).toMatchObject({ paused: true, in_flight: 0, done: settled });
    expect(paused.queued).toBeGreaterThan(0);

    expect(await run.ctl.ask('RESUME')).toBe('OK');
    await within(run.server.waitForRequests(seen + 4), 10_000, 'requests after RESUME');
    expect((await stats(run.ctl)).paused).toBe(false);
    expect((await shutdown(run)).code).toBe(0);
  });

  it('SET CONCURRENCY 1 lowers what is in flight at the server', async () => {
    const run = await startFetch({ delayMs: 50, concurrency: 4 });
    await within(run.server.waitForRequests(8), 10_000, 'eight requests');
    expect(run.server.inFlight.global.max).toBe(4);
    expect(await run.ctl.ask('SET CONCURRENCY 1')).toBe('OK');
    // Up to 4 requests may have started before the change; every one after them arrives alone.
    const from = run.server.requests.length + 4;
    await within(run.server.waitForRequests(from + 5), 10_000, 'five requests under the new cap');
    expect(run.inFlightAtArrival.slice(from, from + 5)).toEqual([1, 1, 1, 1, 1]);
    expect((await stats(run.ctl)).in_flight).toBeLessThanOrEqual(1);
    expect((await shutdown(run)).code).toBe(0);
  });

  it('SHUTDOWN: BYE, exit 0, one result per URL line read, the rest cancelled, report total = result lines', async () => {
    const run = await startFetch({ urls: 200, delayMs: 100, concurrency: 5 });
    await run.cli.waitFor((out) => parseResults(out).length >= 5, 'five results');
    expect(await run.ctl.ask('SHUTDOWN')).toBe('BYE');
    await within(run.ctl.closed, 5000, 'the control connection to close');
    const exit = await run.cli.exited;
    expect(exit.code).toBe(0);
    const results = parseResults(exit.stdout);
    const lines = results.map((r) => r.line);
    expect(new Set(lines).size).toBe(lines.length);
    // The whole file fits the read-ahead queue: every line was read, and has its one result.
    expect([...lines].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const cancelled = results.filter((r) => r.error === 'cancelled');
    expect(cancelled.length).toBeGreaterThan(0);
    for (const r of cancelled) expect(r).toMatchObject({ ok: false, status: null });
    for (const r of results.filter((x) => x.error !== 'cancelled')) expect(r).toMatchObject({ ok: true, status: 200 });
    const report = parseReport(exit.stderr);
    expect(report.total).toBe(results.length);
    expect(report.errors.cancelled).toBe(cancelled.length);
    expect(run.server.requests.length).toBe(results.length - cancelled.length);
  });

  it('--control-token: commands before AUTH get ERR unauthorized; a wrong AUTH is refused and closed', async () => {
    const run = await startFetch({ args: ['--control-token', 's3cret'] });
    for (const cmd of ['PING', 'STATS', 'PAUSE', 'SET CONCURRENCY 1', 'SHUTDOWN']) {
      expect(await run.ctl.ask(cmd)).toBe('ERR unauthorized');
    }
    // The unauthorized PAUSE and SHUTDOWN did nothing: the run goes on.
    const before = run.server.requests.length;
    await within(run.server.waitForRequests(before + 4), 10_000, 'requests after the refused commands');

    const intruder = await connectControl(run.port);
    clients.push(intruder);
    expect(await intruder.ask('AUTH wrong')).toBe('ERR unauthorized');
    await within(intruder.closed, 5000, 'the refused connection to close');

    expect(await run.ctl.ask('AUTH s3cret')).toBe('OK');
    expect(await run.ctl.ask('PING')).toBe('PONG');
    expect((await stats(run.ctl)).paused).toBe(false);
    expect((await shutdown(run)).code).toBe(0);
  });
});
