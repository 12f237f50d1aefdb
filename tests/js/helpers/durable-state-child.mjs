// Runs the bump agent durably (journal and state in file storage under argv[2]) and dies (kill -9)
// inside the state write, 'before' or 'after' it landed, or inside an update's function ('in-update', argv[3]).
import { join } from 'node:path';
import { fileStorage, runPrompt } from '../../../dist/node.js';
import { bumpAgent, bumpModel, stateStorage } from './bump-agent.mjs';

const [dir, when] = process.argv.slice(2);
const agent = when === 'in-update' ? bumpAgent('update', true) : bumpAgent('save');
const { result } = await runPrompt(agent, { model: bumpModel, storage: stateStorage(fileStorage(join(dir, 'state')), when === 'in-update' ? undefined : when), durable: { id: 'r1', storage: fileStorage(join(dir, 'journal')) } });
await result.text;
