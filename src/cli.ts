/**
 * The command-line program: `main(argv, io)` parses arguments and runs one command, returning the
 * exit code. Usage errors become one line on stderr and exit code 2.
 */
import { Command, CommanderError } from 'commander';
import { processIo, UsageError, type Io } from './io.js';
import { VERSION } from './version.js';
import { benchModesCommand } from './commands/bench-modes.js';
import { demoCommand } from './commands/demo.js';
import { fetchCommand } from './commands/fetch.js';
import { serveCommand } from './commands/serve.js';

/** Exit codes, a public contract. */
export const EXIT = { ok: 0, thresholds: 1, usage: 2, interrupted: 130 } as const;

/** Runs the CLI with `argv` (without node and script) and resolves to the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  const done = (code: number): void => {
    exitCode = code;
  };
  // Usage errors from commander become one line: "ratelimmq: <what> (hint)".
  const output = {
    writeOut: (s: string) => io.stdout.write(s),
    writeErr: (s: string) => io.stderr.write(s),
    outputError: (s: string, write: (s: string) => void) =>
      write(`ratelimmq: ${s.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`),
  };
  const program = new Command('ratelimmq')
    .description('Fetch many URLs fast and politely: global and per-host concurrency and rate limits, retries, NDJSON results, latency report.')
    .version(VERSION, '-V, --version');
  program.addCommand(fetchCommand(io, done));
  program.addCommand(serveCommand(io, done));
  program.addCommand(demoCommand(io, done));
  program.addCommand(benchModesCommand(io, done));
  for (const cmd of [program, ...program.commands]) cmd.exitOverride().configureOutput(output);

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exitCode 0.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`ratelimmq: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
  return exitCode;
}

/** Entry point used by bin/ratelimmq.js. */
export function run(): void {
  const io = processIo();
  let settled = false;
  // If the event loop ever empties before the run settles, that is a bug: never exit 0 silently.
  process.on('exit', () => {
    if (!settled) {
      io.stderr.write('ratelimmq: internal error: the run ended before it finished\n');
      process.exitCode = 70;
    }
  });
  main(process.argv.slice(2), io).then(
    (code) => {
      settled = true;
      process.exitCode = code;
      // Everything was flushed and closed; if some stray handle still holds the loop, do not hang.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      settled = true;
      const debug = process.argv.includes('--debug') || io.env.RATELIMMQ_DEBUG === '1';
      io.stderr.write(`ratelimmq: internal error: ${debug && err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
