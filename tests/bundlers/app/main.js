// Client entry for Vite, webpack and the esbuild build without options: no configuration at all.
import { report, runAgent } from './agent.js';

report(runAgent('browser'));
