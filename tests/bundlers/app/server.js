// Next.js-style server side: the same agent module runs on the server at build time (the
// "prerender"), and the page it renders loads the client bundle that runs it again in the browser.
import { writeFile } from 'node:fs/promises';

import { runAgent } from './agent.js';

const [outFile] = process.argv.slice(2);
const server = await runAgent('server');
await writeFile(
  outFile,
  `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>lmthing server/client app</title></head>
<body>
<pre id="server-result" data-state="done">${JSON.stringify({ ok: true, ...server })}</pre>
<pre id="result">running</pre>
<script src="./client.js"></script>
</body>
</html>
`,
);
