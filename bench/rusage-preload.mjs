// Preloaded into a node client via NODE_OPTIONS=--import <file URL of this module>.
// On exit it writes this process's own resource usage as one JSON object to the file named by
// BENCH_RUSAGE_FILE. It never touches stdout or stderr (the client's output must stay clean).
// The variable is removed at load so a node grandchild (which inherits NODE_OPTIONS) cannot
// overwrite the file with its own numbers.
import { writeFileSync } from 'node:fs';

const file = process.env.BENCH_RUSAGE_FILE;
delete process.env.BENCH_RUSAGE_FILE;

if (file) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    // userCPUTime and systemCPUTime are in microseconds, maxRSS in kilobytes.
    const record = { pid: process.pid, userCPUTimeUs: u.userCPUTime, systemCPUTimeUs: u.systemCPUTime, maxRSSKb: u.maxRSS };
    try {
      writeFileSync(file, `${JSON.stringify(record)}\n`);
    } catch {
      // Nothing sensible to do at exit; the bench reports the run as "no rusage".
    }
  });
}
