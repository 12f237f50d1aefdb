// webpack 5 config of the browser app, for the webpack CLI: `webpack --config this --env project=DIR`.
// Production mode, no loaders and no plugins: the package needs none.
import { join } from 'node:path';

export default (env) => ({
  mode: 'production',
  context: join(env.project, 'app'),
  entry: './main.js',
  output: { path: join(env.project, 'out/webpack'), filename: 'main.js', clean: true },
  optimization: { minimize: false }, // faster, and the output stays readable when a test fails
  performance: { hints: false }, // the wasm is over webpack's 244 KiB hint, on purpose
});
