// Writes the ESM entry points as thin wrappers over the CommonJS build, so that `import` and
// `require` in one process share one module instance (one registry of idempotency marks, one
// defaultEngine). Each wrapper re-exports the names the CommonJS module really has.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
// Every entry point of the exports map: '.' is dist/cjs/index.js, './x' is dist/cjs/x/index.js.
const { exports: exportsMap } = require(path.join(root, 'package.json'));
const entries = Object.keys(exportsMap)
  .filter((key) => key !== './package.json')
  .map((key) => (key === '.' ? 'index' : `${key.slice(2)}/index`))
  .filter((entry) => fs.existsSync(path.join(dist, 'cjs', `${entry}.js`)));

for (const entry of entries) {
  const cjsFile = path.join(dist, 'cjs', `${entry}.js`);
  const names = Object.keys(require(cjsFile)).filter(
    (name) => name !== '__esModule' && name !== 'default',
  );
  const esmFile = path.join(dist, 'esm', `${entry}.mjs`);
  const relative = path.relative(path.dirname(esmFile), cjsFile).split(path.sep).join('/');
  fs.mkdirSync(path.dirname(esmFile), { recursive: true });
  fs.writeFileSync(
    esmFile,
    `import cjs from '${relative}';\n\nexport const {\n${names.map((name) => `  ${name},`).join('\n')}\n} = cjs;\n`,
  );
  fs.writeFileSync(esmFile.replace(/\.mjs$/, '.d.mts'), `export * from '${relative}';\n`);
}
