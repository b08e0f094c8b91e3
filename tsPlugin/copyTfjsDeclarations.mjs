// Build step of the TypeScript server plugin: copies the declarations the editor needs for the tfjs the engine runs
// with into tsPlugin/dist/types/node_modules/ (a node_modules layout, so that their imports of one another resolve).
// Only the .d.ts files reachable from @tensorflow/tfjs's index.d.ts are copied (TypeScript's own resolution finds
// them: tfjs-core, -layers, -converter, -data, the cpu and webgl backends, and @webgpu/types that tfjs-core
// references), plus a minimal package.json (name, version, types) and the licence file of each package.
import ts from 'typescript';
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

const ENTRY = '@tensorflow/tfjs';
/** The four names the plugin resolves must all land on a copied file. */
const REQUIRED = ['@tensorflow/tfjs', '@tensorflow/tfjs-core', '@tensorflow/tfjs-layers'].map((p) =>
  join(p, 'dist', 'index.d.ts'),
);
const TFJS_VERSION = '4.22.0';

/** The package folder (…/node_modules/name or …/node_modules/@scope/name) a file belongs to. */
function packageDirOf(file) {
  const parts = file.split(sep);
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) throw new Error(`not in a node_modules folder: ${file}`);
  const n = parts[i + 1].startsWith('@') ? 3 : 2;
  return parts.slice(0, i + n).join(sep);
}

/**
 * Copies the declarations from `root`/node_modules into `outDir`/node_modules (emptied first).
 * @returns {{ files: number, bytes: number, packages: string[] }}
 */
export function copyTfjsDeclarations(root, outDir) {
  // real path: TypeScript reports the files by their real paths (node_modules may be a link)
  const nodeModules = realpathSync(join(root, 'node_modules'));
  const entry = join(nodeModules, ENTRY, 'dist', 'index.d.ts');
  const program = ts.createProgram([entry], {
    noEmit: true,
    noLib: true,
    types: [],
    skipLibCheck: true,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  const files = program
    .getSourceFiles()
    .map((f) => f.fileName.split('/').join(sep))
    .filter((f) => f.endsWith('.d.ts') && relative(nodeModules, f).split(sep)[0] !== '..');
  for (const req of REQUIRED)
    if (!files.includes(join(nodeModules, req))) throw new Error(`tfjs declarations: ${req} is not reachable`);

  const out = join(outDir, 'node_modules');
  rmSync(outDir, { recursive: true, force: true });
  let bytes = 0;
  const packageDirs = new Set();
  for (const f of files) {
    const dest = join(out, relative(nodeModules, f));
    mkdirSync(dirname(dest), { recursive: true });
    cpSync(f, dest);
    bytes += statSync(f).size;
    packageDirs.add(packageDirOf(f));
  }
  const packages = [];
  for (const dir of packageDirs) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    if (pkg.name.startsWith('@tensorflow/') && pkg.version !== TFJS_VERSION)
      throw new Error(`tfjs declarations: ${pkg.name} is ${pkg.version}, the engine runs ${TFJS_VERSION}`);
    const types = pkg.types ?? pkg.typings;
    const manifest = { name: pkg.name, version: pkg.version, ...(types ? { types } : {}), license: pkg.license };
    const dest = join(out, relative(nodeModules, dir), 'package.json');
    writeFileSync(dest, JSON.stringify(manifest, null, 2) + '\n');
    bytes += statSync(dest).size;
    // the declarations are redistributed (Apache-2.0 for tfjs, BSD-3-Clause for @webgpu/types): their licence goes along
    const licence = ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].find((l) => existsSync(join(dir, l)));
    if (licence) {
      cpSync(join(dir, licence), join(dirname(dest), licence));
      bytes += statSync(join(dir, licence)).size;
    }
    packages.push(`${pkg.name}@${pkg.version}`);
  }
  return { files: files.length, bytes, packages: packages.sort() };
}
