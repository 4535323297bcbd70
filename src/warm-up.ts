/**
 * Warm-up before the clock starts. undici compiles its HTTP parser (WebAssembly) on its first
 * connection, blocking the event loop for tens of milliseconds, and its code runs cold: the first
 * requests of a run then bunch up (a burst at a rate limit) or start late. A few requests to a
 * throwaway server on 127.0.0.1 pay that cost before the first real request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from 'undici';

const REQUESTS = 20;

export async function warmUp(): Promise<void> {
  const server = createServer((_req, res) => res.end('ok'));
  try {
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
  } catch {
    return; // no loopback here: run cold rather than fail
  }
  const client = new Client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  try {
    for (let i = 0; i < REQUESTS; i++) await (await client.request({ path: '/', method: 'GET' })).body.dump();
  } catch {
    // A warm-up that fails costs nothing but the warmth.
  } finally {
    await client.destroy();
    server.closeAllConnections();
    server.close();
  }
}
