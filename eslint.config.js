'use strict';
// ESLint (flat config) for the JavaScript Parley ships and runs: the two front
// ends (widget/, agent-console/), the modules they share (ui-shared/), the
// build scripts, the benchmarks and the tests. `make lint-js` runs it with
// Prettier in check mode.
//
// Beyond eslint:recommended and the rules of hooks, the browser code keeps
// two rules of its own:
// - text from people is never parsed as HTML or code (the same list that
//   tests/e2e/widget-budget.test.js checks in widget/src, here for every
//   front end and for ui-shared/);
// - the widget and ui-shared/ never import the console (the widget has a size
//   budget), and ui-shared/ imports neither front end.

const js = require('@eslint/js');
const globals = require('globals');
const reactHooks = require('eslint-plugin-react-hooks');

const BROWSER = ['widget/src/**/*.{js,jsx}', 'agent-console/src/**/*.{js,jsx}', 'ui-shared/**/*.{js,jsx}'];
const NODE = ['eslint.config.js', 'scripts/**/*.js', 'bench/**/*.js', 'bench/chatload', 'widget/build.js', 'agent-console/build.js'];

const NO_HTML = [
  { selector: 'MemberExpression[property.name=/^(innerHTML|outerHTML)$/]', message: 'Render text as text: never parse strings as HTML.' },
  { selector: "CallExpression[callee.property.name='insertAdjacentHTML']", message: 'Render text as text: never parse strings as HTML.' },
  { selector: "CallExpression[callee.object.name='document'][callee.property.name=/^write(ln)?$/]", message: 'No document.write.' },
  { selector: "JSXAttribute[name.name='dangerouslySetInnerHTML']", message: 'Render text as text: never parse strings as HTML.' },
  {
    selector: "CallExpression[callee.property.name='setAttribute'][arguments.0.value='style']",
    message: 'Set styles through the CSSOM (el.style.x): a style attribute is refused by a strict CSP.',
  },
];

const unused = ['error', { args: 'none', caughtErrors: 'none', varsIgnorePattern: '^_' }];

module.exports = [
  {
    ignores: ['node_modules/', 'build/', 'test-results/', 'var/', 'third_party/', 'backend/', 'docker/'],
  },
  js.configs.recommended,
  {
    files: NODE,
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: { 'no-unused-vars': unused },
  },
  {
    // The Node test suites (node:test); the browser tests also hand
    // functions to page.evaluate(), which run in the page.
    files: ['tests/**/*.js'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: { 'no-unused-vars': unused },
  },
  {
    files: ['tests/e2e/**/*.js', 'tests/helpers/browser.js', 'tests/helpers/widget.js', 'tests/helpers/bidi.js'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
  },
  {
    files: BROWSER,
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      parserOptions: { ecmaFeatures: { jsx: true } },
      globals: { ...globals.browser },
    },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'no-unused-vars': unused,
      'react-hooks/rules-of-hooks': 'error',
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-restricted-syntax': ['error', ...NO_HTML],
    },
  },
  {
    // ui-shared's own tests run in Node, with a stand-in WebSocket.
    files: ['ui-shared/test/**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['widget/src/**/*.{js,jsx}', 'ui-shared/**/*.{js,jsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/agent-console/**'], message: 'The widget and ui-shared/ must not pull console code into the widget bundle.' }] },
      ],
    },
  },
  {
    files: ['ui-shared/**/*.{js,jsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/agent-console/**', '**/widget/**'], message: 'ui-shared/ is imported by both front ends and imports neither.' }],
        },
      ],
    },
  },
];
