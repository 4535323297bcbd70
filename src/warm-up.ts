/**
 * Warm-up before the clock starts. undici compiles its HTTP parser (WebAssembly) on its first
 * connection, blocking the event loop for tens of milliseconds, and the request path runs cold:
 * the first requests of a run then bunch up (a burst at a rate limit) or start late. A few
 * attempts through the same code (fetchAttempt over a dispatcher like the run's) to a throwaway
 * server on 127.0.0.1 pay that cost before the first real request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { systemClock } from './clock.js';
import { Deadlines } from './deadlines.js';
import { fetchAttempt, type RequestSpec } from './fetch.js';

const ATTEMPTS = 20;
const IN_FLIGHT = 4;

export async function warmUp(makeDispatcher: () => Dispatcher, spec: RequestSpec): Promise<void> {
  const server = createServer((_req, res) => res.end('ok'));
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  } catch {
    return; // no loopback here: run cold rather than fail
  }
  const dispatcher = makeDispatcher();
  const deadlines = new Deadlines(spec.timeoutMs, systemClock);
  const target = { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, path: '/' };
  const loop = async (): Promise<void> => {
    for (let i = 0; i < ATTEMPTS / IN_FLIGHT; i++) {
      await new Promise((resolve) => fetchAttempt(dispatcher, target, { ...spec, method: 'GET', maxRedirects: 0 }, deadlines, resolve));
    }
  };
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, loop)); // failures are results: nothing throws
  } finally {
    deadlines.close();
    await dispatcher.destroy().catch(() => undefined);
    server.closeAllConnections();
    server.close();
  }
}
