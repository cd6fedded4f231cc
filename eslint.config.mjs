// Lint rules, including the layering rules of DESIGN.md §9: pure layers do no I/O and read no clock.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['node:dgram', 'dgram', 'node:net', 'net', 'node:tls', 'tls', 'node:fs', 'fs', 'node:http', 'http'];
const pureRestrictions = {
  'no-restricted-imports': ['error', {
    paths: ioModules.map((name) => ({ name, message: 'Pure layer: no I/O. Inject it from an adapter.' })),
    patterns: [{ group: ['@aws-sdk/*'], message: 'Pure layer: no AWS SDK. Use a port implemented in an adapter.' }],
  }],
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'Pure layer: take nowMs as a parameter.' },
    { object: 'process', property: 'env', message: 'Pure layer: configuration is passed in.' },
    { object: 'Math', property: 'random', message: 'Pure layer: inject the random source.' },
  ],
  'no-restricted-syntax': ['error', { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pure layer: take nowMs as a parameter.' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'cdk.out/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['functions/core/**/*.ts', 'sip-gateway/src/sip/**/*.ts', 'sip-gateway/src/transaction/**/*.ts'],
    rules: pureRestrictions,
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
