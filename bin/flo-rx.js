#!/usr/bin/env node
// The `flo-rx` command (built into dist/ by `npm run build`).
import '../dist/cli.js';
