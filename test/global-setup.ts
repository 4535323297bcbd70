/**
 * One temporary directory for the whole test run: every mkdtemp in tests (and in the CLI children
 * they spawn) lands under it through TMPDIR, and it is removed at the end.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'ratelimmq-tests-'));
  process.env.TMPDIR = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
