#!/usr/bin/env node
// npx puts node_modules/.bin first on PATH, so `node` here is the Node 24 the project installs.
import '../src/cli/main.ts';
