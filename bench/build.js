#!/usr/bin/env node
'use strict';
/*
 * Transpiles src/, bench/ and the Redis test fixture into OUT_DIR (default .tmp/bench) with tsconfig.json's compiler
 * options (legacy decorators, as NestJS compiles them; CommonJS), without type checking
 * (`npm run typecheck` does that). The bench then runs on plain node: under ts-node the
 * TypeScript compiler stays in the heap (about 25 MB), and the full GC before every batch
 * would cost 30 times more.
 *
 * usage: node bench/build.js [OUT_DIR]
 */
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.join(__dirname, '..');
const outDir = path.resolve(root, process.argv[2] ?? path.join('.tmp', 'bench'));

const configFile = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
if (configFile.error)
  throw new Error(ts.flattenDiagnosticMessageText(configFile.error.messageText, '\n'));
const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
const compilerOptions = {
  ...options,
  noEmit: false,
  declaration: false,
  sourceMap: false,
  inlineSourceMap: false,
};

function* sources(directory) {
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) yield* sources(file);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) yield file;
  }
}

// The bench starts Redis with the test suite's own fixture, rather than a copy of it.
const sharedFixtures = [path.join(root, 'test', 'support', 'redis-server.ts')];

fs.rmSync(outDir, { recursive: true, force: true });
let count = 0;
for (const folder of ['src', 'bench']) {
  for (const file of [
    ...sources(path.join(root, folder)),
    ...(folder === 'bench' ? sharedFixtures : []),
  ]) {
    const { outputText, diagnostics } = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: file,
      reportDiagnostics: true,
    });
    if (diagnostics && diagnostics.length > 0) {
      throw new Error(
        `${file}: ${diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n')}`,
      );
    }
    const target = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
    count++;
  }
}
process.stderr.write(
  `bench: transpiled ${count} files into ${path.relative(root, outDir) || '.'}\n`,
);
