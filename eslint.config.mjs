// Lint rules, including the layering of docs/ARCHITECTURE.md: the AWS SDK is imported only in
// src/aws, src/resources and src/sandbox; domain code never imports oclif, listr2 or inquirer.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const sdk = { group: ['@aws-sdk/*', '@smithy/*'], message: 'The AWS SDK belongs in src/aws, src/resources or src/sandbox (docs/ARCHITECTURE.md).' };
const ui = { group: ['@oclif/*', 'listr2', '@inquirer/*'], message: 'Terminal and CLI libraries belong in src/commands and src/ui.' };

// In jest 30 a RegExp inside toMatchObject is compared as an object with no keys, so it matches any
// value (`rejects.toMatchObject({ message: /x/ })` checks nothing); inside objectContaining it matches
// nothing. Use expect.stringMatching(/x/) or rejects.toThrow(/x/).
const regexInMatcher = (matcher) => [
  `CallExpression[callee.property.name='${matcher}'] Property[value.regex]`,
  `CallExpression[callee.property.name='${matcher}'] Property > NewExpression[callee.name='RegExp']`,
  `CallExpression[callee.property.name='${matcher}'] ArrayExpression > Literal[regex]`,
  `CallExpression[callee.property.name='${matcher}'] > Literal[regex]`,
].map((selector) => ({
  selector,
  message: `A RegExp inside ${matcher} is not matched against strings in this jest: use expect.stringMatching(/.../) or rejects.toThrow(/.../).`,
}));

// toHaveProperty('a.b') reads the path a -> b, so a tag key such as 'k3sctl.io/x' is never found and
// `not.toHaveProperty('k3sctl.io/x')` always passes. Give a key with a dot as an array: ['k3sctl.io/x'].
const dottedKey = {
  selector: "CallExpression[callee.property.name='toHaveProperty'] > Literal.arguments:first-child[value=/\\./]",
  message: "toHaveProperty('a.b') is the path a -> b: give a key that contains a dot as an array, toHaveProperty(['a.b']).",
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bin/**', 'coverage/**', '*.config.*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', exports: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', Buffer: 'readonly' },
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...regexInMatcher('toMatchObject'), ...regexInMatcher('objectContaining'), dottedKey] },
  },
  { files: ['src/commands/**/*.ts', 'src/cli/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [sdk] }] } },
  { files: ['src/orchestration/**/*.ts', 'src/config/**/*.ts', 'src/kube/**/*.ts', 'src/core/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [sdk, ui] }] } },
  { files: ['src/resources/**/*.ts', 'src/aws/**/*.ts', 'src/sandbox/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [ui] }] } },
);
