// @ts-check
/**
 * One flat config for the whole monorepo. Each package runs `eslint .` from its
 * own directory; ESLint 9 finds this file by walking up from the cwd, and every
 * `files` glob below is relative to this directory.
 *
 * Type-aware linting uses the project service: each file is checked with the
 * nearest tsconfig.json, which in every package covers src/ and test/
 * (tests included; tsconfig.build.json is the emit-only subset).
 */
import path from 'node:path';

import eslint from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * Node.js built-in modules that protocol must not import without the `node:` prefix
 * (the prefixed form is caught by the `node:*` pattern). Exact names, not globs, so a
 * local `./events.js` or `./stream/` is never mistaken for a built-in.
 */
const NODE_BUILTINS = [
  'assert', 'assert/strict', 'async_hooks', 'buffer', 'child_process', 'cluster', 'console',
  'constants', 'crypto', 'dgram', 'diagnostics_channel', 'dns', 'dns/promises', 'domain',
  'events', 'fs', 'fs/promises', 'http', 'http2', 'https', 'inspector', 'module', 'net', 'os',
  'path', 'path/posix', 'path/win32', 'perf_hooks', 'process', 'punycode', 'querystring',
  'readline', 'readline/promises', 'repl', 'stream', 'stream/consumers', 'stream/promises',
  'stream/web', 'string_decoder', 'sys', 'timers', 'timers/promises', 'tls', 'trace_events',
  'tty', 'url', 'util', 'util/types', 'v8', 'vm', 'wasi', 'worker_threads', 'zlib',
];

const SANS_IO_IMPORT = '@tether/protocol is sans-I/O: it must not import Node.js modules.';

/**
 * Local rule: file names are kebab-case (`receive-buffer.ts`, `connection.test.ts`).
 * Every dot-separated part of the base name must be lower-case words joined by `-`.
 * @type {import('eslint').Rule.RuleModule}
 */
const filenameCase = {
  meta: {
    type: 'suggestion',
    docs: { description: 'enforce kebab-case file names' },
    schema: [],
    messages: { notKebab: "File name '{{name}}' is not kebab-case." },
  },
  create(context) {
    const name = path.basename(context.filename);
    const kebab = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$/;
    return {
      Program(node) {
        if (!kebab.test(name)) {
          context.report({ node, messageId: 'notKebab', data: { name } });
        }
      },
    };
  },
};

export default tseslint.config(
  {
    ignores: ['**/dist/**', '**/node_modules/**', '**/coverage/**', '**/.turbo/**'],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    plugins: {
      tether: { rules: { 'filename-case': filenameCase } },
    },
    rules: {
      'tether/filename-case': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Plain JS config files are not in any tsconfig: lint them without types.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: globals.node },
  },
  {
    // protocol's build-only ambient typings (see packages/protocol/tsconfig.build.json)
    // are deliberately outside tsconfig.json, where @types/node already declares them.
    files: ['packages/protocol/types/**/*.d.ts'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    // protocol is sans-I/O: no Node.js modules, no timers, no host globals.
    // Tests are exempt: they may use node: modules to build fixtures.
    files: ['packages/protocol/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NODE_BUILTINS.map((name) => ({ name, message: SANS_IO_IMPORT })),
          patterns: [{ group: ['node:*'], message: SANS_IO_IMPORT }],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...[
          'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval',
          'clearImmediate', 'queueMicrotask', 'process', 'Buffer', 'global', 'require',
          'fetch', 'Request', 'Response', 'Headers', 'window', 'document', 'performance',
        ].map((name) => ({
          name,
          message: `@tether/protocol is sans-I/O: '${name}' is a host global (no timers, no sockets, no Node/DOM APIs).`,
        })),
      ],
    },
  },
);
