// ESLint (flat config): typescript-eslint's recommended rules. Formatting is Prettier's (`npm run format`);
// `npm run lint` (part of `npm test`) runs both checks.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeGlobals = Object.fromEntries(
  [
    'process',
    'console',
    'Buffer',
    'URL',
    'URLSearchParams',
    'fetch',
    'performance',
    'AbortController',
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'queueMicrotask',
  ].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      'tsPlugin/dist/',
      'out/',
      '.cache/',
      '.vscode-test/',
      'test-results/',
      'examples/',
      'test/e2e/fixtures/',
      // git-ignored scratch measurements (see .gitignore)
      '.tmpbench/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  // plain JS (build scripts, benchmarks) runs in Node
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: nodeGlobals } },
  // tests and benchmarks read untyped JSON documents and page.evaluate results: `any` is allowed there, not in src/ or webview/
  { files: ['test/**', 'bench/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
