// Placeholder so the program compiles; replaced by the control-port work (issue 3).
import { Command } from 'commander';
import type { Io } from '../io.js';

export function serveCommand(_io: Io, _done: (code: number) => void): Command {
  return new Command('serve').description('Run the TCP control server alone');
}
