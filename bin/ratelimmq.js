#!/usr/bin/env node
// Thin shim: all behaviour lives in src/cli.ts (compiled to dist/ by `npm run build`).
import { run } from '../dist/cli.js';

run();
