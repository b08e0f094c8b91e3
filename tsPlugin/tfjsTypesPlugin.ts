// TypeScript server plugin: the editor sees the tfjs the engine runs with. The engine resolves @tensorflow/tfjs,
// -node, -core and -layers to its own bundled tfjs 4.22.0, so a script runs in a folder with no node_modules; without
// this plugin the editor would still underline those imports with "Cannot find module". The plugin wraps the
// project's module resolution: when one of those four names does not resolve the normal way (the workspace's own
// node_modules always wins), it resolves to the declarations shipped beside this file (dist/types/node_modules/…,
// copied from the tfjs 4.22.0 packages by scripts/build.mjs). Every other name is left untouched.
// Runs inside tsserver: `typescript` is the module tsserver passes to the factory (type-only import here).
import type * as ts from 'typescript/lib/tsserverlibrary';
import * as path from 'node:path';

/** The vendored declarations, laid out as a node_modules folder so that their own imports resolve among themselves. */
const TYPES_NODE_MODULES = path.join(__dirname, 'types', 'node_modules');

/** The module names the engine provides, and the package whose declarations each one gets. */
const PROVIDED_MODULES: Readonly<Record<string, string>> = {
  '@tensorflow/tfjs': '@tensorflow/tfjs',
  // tfjs-node runs as tfjs in the engine: same API surface (its `node` namespace is not provided)
  '@tensorflow/tfjs-node': '@tensorflow/tfjs',
  '@tensorflow/tfjs-core': '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-layers': '@tensorflow/tfjs-layers',
};

/** The bundled declaration file for a provided module name, else undefined. */
function bundledDeclarationFor(moduleName: string, typesNodeModules = TYPES_NODE_MODULES): string | undefined {
  const pkg = Object.prototype.hasOwnProperty.call(PROVIDED_MODULES, moduleName)
    ? PROVIDED_MODULES[moduleName]
    : undefined;
  return pkg === undefined ? undefined : path.join(typesNodeModules, pkg, 'dist', 'index.d.ts');
}

function init(modules: { typescript: typeof ts }): ts.server.PluginModule {
  const typescript = modules.typescript;

  /** The resolution for a provided name that the normal resolution missed; `undefined` leaves it as it was. */
  function fallback(moduleName: string, host: ts.LanguageServiceHost): ts.ResolvedModuleFull | undefined {
    const file = bundledDeclarationFor(moduleName);
    if (file === undefined || !(host.fileExists?.(file) ?? typescript.sys.fileExists(file))) return undefined;
    return { resolvedFileName: file, extension: typescript.Extension.Dts, isExternalLibraryImport: true };
  }

  function create(info: ts.server.PluginCreateInfo): ts.LanguageService {
    const host = info.languageServiceHost;
    const log = (msg: string) => info.project.projectService.logger.info(`[bn-inspector-tfjs-types] ${msg}`);
    const logged = new Set<string>();
    const note = (name: string, file: string) => {
      if (logged.has(name)) return;
      logged.add(name);
      log(`${name} -> ${file}`);
    };

    // TypeScript >= 5.0
    const resolveLiterals = host.resolveModuleNameLiterals?.bind(host);
    if (resolveLiterals) {
      host.resolveModuleNameLiterals = (literals, containingFile, ...rest) => {
        const results = resolveLiterals(literals, containingFile, ...rest);
        return results.map((result, i) => {
          if (result.resolvedModule) return result;
          const resolvedModule = fallback(literals[i].text, host);
          if (!resolvedModule) return result;
          note(literals[i].text, resolvedModule.resolvedFileName);
          return { ...result, resolvedModule };
        });
      };
    }
    // older servers (deprecated API; a server has one or the other)
    const resolveNames = host.resolveModuleNames?.bind(host);
    if (resolveNames) {
      host.resolveModuleNames = (names, containingFile, ...rest) => {
        const results = resolveNames(names, containingFile, ...rest);
        return results.map((result, i) => {
          if (result) return result;
          const resolvedModule = fallback(names[i], host);
          if (resolvedModule) note(names[i], resolvedModule.resolvedFileName);
          return resolvedModule;
        });
      };
    }
    log(
      `ready (${resolveLiterals ? 'resolveModuleNameLiterals' : resolveNames ? 'resolveModuleNames' : 'no resolution hook!'}); declarations in ${TYPES_NODE_MODULES}`,
    );
    return info.languageService;
  }

  return { create };
}

// tsserver requires the module itself to be the factory (module.exports = init)
export = init;
