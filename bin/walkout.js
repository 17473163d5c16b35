#!/usr/bin/env node
// The `walkout` command: registers the TypeScript loader, then hands over to services/cli.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../services/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
