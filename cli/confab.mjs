#!/usr/bin/env node
// The `confab` command. Registers tsx so that the CLI and the core run from their TypeScript sources.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
