// Packs the package as npm would publish it and installs the tarball into a fresh temp project
// (from the npm cache when it has the dependencies, else from the registry),
// so tests load lmthing only through its package.json "exports" (no private paths).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from './temp-dir.mjs';

const root = resolve(import.meta.dirname, '../../..');
let installed;

/** Returns the temp project directory with the packed lmthing installed (once per process). */
export function installPackedPackage() {
  if (installed) return installed;
  const dir = tempDir('lmthing-pack-');
  const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const tarball = npm(['pack', '--silent', '--pack-destination', dir], root).trim().split('\n').pop();
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)], dir);
  installed = { dir, packageDir: join(dir, 'node_modules', 'lmthing') };
  return installed;
}
