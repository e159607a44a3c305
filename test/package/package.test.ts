// The package as consumers get it: `npm pack`, installed (offline) into a scratch project, then
// loaded by Node through `require` and `import`, and type-checked by every TypeScript we support
// under every moduleResolution, in both decorator modes. Entry points come from package.json's
// `exports`, so a new one is covered as soon as it is exported.
//
// Independent of the decorator mode, so it runs in the 'legacy' jest project only.
// STEADFAST_KEEP_PACKAGE_TEST_DIR=1 keeps the scratch directory (its path is printed) to reproduce a
// type-check cell by hand: `node <typescript dir>/bin/tsc -p <consumer>/tsconfig.<cell>.json`.
// STEADFAST_PACKAGE_TEST_CLI=1 runs every compiler's own `tsc -p` for every cell (slower: it also
// type-checks TypeScript's libs, @types/node and the peers' types) instead of fixtures/types/run-tsc.cjs.
import { execFile, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

declare const STEADFAST_DECORATOR_MODE: 'legacy' | 'standard';

const ROOT = path.resolve(__dirname, '..', '..');
const FIXTURES = path.join(__dirname, 'fixtures');
const PACKAGE_NAME = 'steadfast';
const FULL_TSC = process.env.STEADFAST_PACKAGE_TEST_CLI === '1';
/** How long the first type-check test may wait for the whole matrix (about 20 s on an idle 2-core machine). */
const MATRIX_TIMEOUT = FULL_TSC ? 900_000 : 120_000;

// ---------------------------------------------------------------------------------------------
// What package.json declares

interface Conditions {
  readonly types: string;
  readonly default: string;
}
interface EntryPoint {
  /** `.`, `./testing` */
  readonly subpath: string;
  /** `steadfast`, `steadfast/testing` */
  readonly specifier: string;
  readonly import: Conditions | undefined;
  readonly require: Conditions | undefined;
  /** The exports map's target as written, to check the shape of. */
  readonly raw: unknown;
}

interface PackageJson {
  name: string;
  license?: string;
  main?: string;
  types?: string;
  exports: Record<string, unknown>;
  typesVersions?: Record<string, Record<string, string[]>>;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as PackageJson;

function conditions(target: unknown, name: 'import' | 'require'): Conditions | undefined {
  const value = (target as Record<string, unknown> | null)?.[name] as
    Record<string, unknown> | undefined;
  return typeof value?.types === 'string' && typeof value.default === 'string'
    ? { types: value.types, default: value.default }
    : undefined;
}

/** Every code entry point of the exports map (not `./package.json` or other plain files). */
const entryPoints: EntryPoint[] = Object.entries(pkg.exports)
  .filter(([subpath]) => !/\.json$/.test(subpath))
  .map(([subpath, raw]) => ({
    subpath,
    specifier: subpath === '.' ? PACKAGE_NAME : `${PACKAGE_NAME}/${subpath.replace(/^\.\//, '')}`,
    import: conditions(raw, 'import'),
    require: conditions(raw, 'require'),
    raw,
  }));
const specifiers = entryPoints.map((entry) => entry.specifier);

/** Where `moduleResolution: node` (which ignores exports) finds an entry point's types. */
function node10Types(entry: EntryPoint): string | undefined {
  if (entry.subpath === '.') return pkg.types;
  const mapping = Object.values(pkg.typesVersions ?? {})[0] ?? {};
  const request = entry.subpath.replace(/^\.\//, '');
  for (const [pattern, targets] of Object.entries(mapping)) {
    const star = pattern.indexOf('*');
    if (star < 0 && pattern === request) return targets[0];
    if (
      star >= 0 &&
      request.startsWith(pattern.slice(0, star)) &&
      request.endsWith(pattern.slice(star + 1))
    ) {
      return targets[0]?.replace(
        '*',
        request.slice(star, request.length - (pattern.length - star - 1)),
      );
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The type-check matrix

interface Compiler {
  readonly id: string;
  readonly dir: string;
  readonly version: string;
  readonly major: number;
  /** TypeScript 7 is a native binary: no JavaScript API, run its CLI. */
  readonly native: boolean;
}

const COMPILER_PACKAGES = ['typescript-5.0', 'typescript', 'typescript-6', 'typescript-7'];
const compilers: Compiler[] = COMPILER_PACKAGES.map((name) => {
  const dir = path.join(ROOT, 'node_modules', name);
  const version = (
    JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return { id: `ts${major}.${minor}`, dir, version, major, native: major >= 7 };
});

interface Resolution {
  readonly id: 'node' | 'node16' | 'nodenext' | 'bundler';
  readonly module: string;
  readonly sources: readonly string[];
  /** Which set of types each entry point must resolve to (the exports conditions, or node10's fields). */
  readonly expects: readonly ('import' | 'require' | 'node10')[];
}

const resolutions: Resolution[] = [
  { id: 'node', module: 'commonjs', sources: ['consumer.ts'], expects: ['node10'] },
  {
    id: 'node16',
    module: 'node16',
    sources: ['consumer.cts', 'consumer.mts'],
    expects: ['require', 'import'],
  },
  {
    id: 'nodenext',
    module: 'nodenext',
    sources: ['consumer.cts', 'consumer.mts'],
    expects: ['require', 'import'],
  },
  { id: 'bundler', module: 'esnext', sources: ['consumer.ts'], expects: ['import'] },
];

type DecoratorMode = 'legacy' | 'standard';
const decoratorModes: DecoratorMode[] = ['legacy', 'standard'];

interface Cell {
  readonly title: string;
  readonly config: string;
  readonly compiler: Compiler;
  readonly resolution: Resolution;
  readonly mode: DecoratorMode;
  /** Set where the compiler cannot take this configuration at all: the one diagnostic code it gives. */
  readonly unsupported?: { readonly code: number; readonly reason: string };
}

const cells: Cell[] = compilers.flatMap((compiler) =>
  resolutions.flatMap((resolution) =>
    decoratorModes.map((mode): Cell => {
      const config = `tsconfig.${compiler.id}.${resolution.id}.${mode}.json`;
      const unsupported =
        compiler.major >= 7 && resolution.id === 'node'
          ? {
              code: 5108,
              reason: `TypeScript ${compiler.version} has removed moduleResolution node (node10)`,
            }
          : undefined;
      const title = `${compiler.id} · moduleResolution ${resolution.id} · ${mode} decorators${unsupported ? ' (unsupported: TS5108)' : ''}`;
      return { title, config, compiler, resolution, mode, ...(unsupported && { unsupported }) };
    }),
  ),
);

function tsconfigFor(cell: Cell): object {
  const { compiler, resolution, mode } = cell;
  return {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: resolution.module,
      moduleResolution: resolution.id,
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      types: ['node'],
      ...(mode === 'legacy' && { experimentalDecorators: true, emitDecoratorMetadata: true }),
      // TypeScript 6 deprecates moduleResolution node (node10) and errors (TS5107) unless told to
      // ignore it; 5.x rejects this value of ignoreDeprecations, so it is set for 6 only.
      ...(compiler.major === 6 && resolution.id === 'node' && { ignoreDeprecations: '6.0' }),
    },
    files: resolution.sources.map((source) => `src/${source}`),
  };
}

function consumerSource(): string {
  const template = fs.readFileSync(path.join(FIXTURES, 'types', 'consumer.ts.tpl'), 'utf8');
  const imports = entryPoints.map(
    (entry, index) => `import * as entry${index} from '${entry.specifier}';`,
  );
  const generated = [
    ...imports,
    `type Typed<T> = 0 extends 1 & T ? 'any' : [keyof T] extends [never] ? 'empty' : 'typed';`,
    `export const entryPoints: [${entryPoints.map((_, index) => `Typed<typeof entry${index}>`).join(', ')}] = [${entryPoints.map(() => `'typed'`).join(', ')}];`,
  ].join('\n');
  if (!template.includes('/* @entry-points */'))
    throw new Error('consumer.ts.tpl lost its /* @entry-points */ marker');
  return template.replace('/* @entry-points */', generated);
}

interface CheckResult {
  readonly diagnostics: string[];
  readonly codes: number[];
  /** Every file in the program, absolute. */
  readonly files: string[];
  readonly ms: number;
}

// ---------------------------------------------------------------------------------------------
// Processes

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();

function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd, env, maxBuffer: 256 * 1024 * 1024 },
      (error, stdout, stderr) => {
        children.delete(child);
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
        if (error !== null && code === null)
          reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
        else resolve({ code, stdout, stderr });
      },
    );
    children.add(child);
  });
}

async function runOk(
  command: string,
  args: readonly string[],
  cwd: string,
  env?: NodeJS.ProcessEnv,
): Promise<string> {
  const result = await run(command, args, cwd, env);
  if (result.code !== 0) {
    throw new Error(
      `\`${[command, ...args].join(' ')}\` in ${cwd} exited with ${result.code}\n${result.stderr}\n${result.stdout}`,
    );
  }
  return result.stdout;
}

/** Runs the jobs, at most `limit` at a time, longest (first listed) first. */
async function pool(jobs: (() => Promise<void>)[], limit: number): Promise<void> {
  const queue = [...jobs];
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job !== undefined; job = queue.shift()) await job();
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
}

/** The JavaScript compilers check all their cells in one process each (see fixtures/types/run-tsc.cjs). */
async function checkWithApi(
  compiler: Compiler,
  group: Cell[],
  consumer: string,
  into: Map<Cell, CheckResult>,
): Promise<void> {
  const runner = path.join(FIXTURES, 'types', 'run-tsc.cjs');
  const stdout = await runOk(
    process.execPath,
    [runner, compiler.dir, consumer, ...group.map((cell) => cell.config)],
    consumer,
  );
  const results = JSON.parse(stdout) as (CheckResult & { config: string })[];
  group.forEach((cell, index) => {
    const result = results[index];
    if (result?.config !== cell.config)
      throw new Error(`run-tsc.cjs answered ${result?.config} for ${cell.config}`);
    into.set(cell, result);
  });
}

/** TypeScript 7 has no JavaScript API: its own `tsc -p`, one cell per run (it is fast). */
async function checkWithCli(
  compiler: Compiler,
  cell: Cell,
  consumer: string,
  into: Map<Cell, CheckResult>,
): Promise<void> {
  const started = Date.now();
  // The matrix runs jobs side by side already; TypeScript 7's own threads would only compete.
  const threading = compiler.native ? ['--singleThreaded'] : [];
  const args = [
    path.join(compiler.dir, 'bin', 'tsc'),
    '-p',
    cell.config,
    '--pretty',
    'false',
    '--listFiles',
    ...threading,
  ];
  const result = await run(process.execPath, args, consumer);
  if (result.code === null || result.stderr.trim() !== '')
    throw new Error(`tsc ${compiler.version} -p ${cell.config}: ${result.stderr}`);
  const diagnostics: string[] = [];
  const files: string[] = [];
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    if (/^\s/.test(line) && diagnostics.length > 0)
      diagnostics[diagnostics.length - 1] += `\n${line}`;
    else if (/error TS\d+:/.test(line) || !path.isAbsolute(line)) diagnostics.push(line);
    else files.push(line);
  }
  const codes = diagnostics.map((text) => Number(/error TS(\d+):/.exec(text)?.[1] ?? NaN));
  into.set(cell, { diagnostics, codes, files, ms: Date.now() - started });
}

// ---------------------------------------------------------------------------------------------

const inLegacyProject = STEADFAST_DECORATOR_MODE === 'legacy';
const suite = inLegacyProject ? describe : describe.skip;
if (!inLegacyProject)
  console.log(
    `package tests skipped in the '${STEADFAST_DECORATOR_MODE}' project: they do not depend on the decorator mode and run in 'legacy'`,
  );

suite('the packed package', () => {
  let startedAt = Date.now();
  const timings: Record<string, number> = {};
  let scratch = '';
  let consumer = '';
  let tarballFiles: string[] = [];
  let matrix: Promise<Map<Cell, CheckResult>> | undefined;
  const results = new Map<Cell, CheckResult>();
  let matrixSettled: Promise<unknown> = Promise.resolve();

  async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await work();
    } finally {
      timings[label] = Date.now() - started;
    }
  }

  beforeAll(async () => {
    startedAt = Date.now();
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steadfast-package-'));
    const packDir = path.join(scratch, 'pack');
    const extractDir = path.join(scratch, 'extract');
    consumer = path.join(scratch, 'consumer');
    for (const dir of [
      packDir,
      extractDir,
      path.join(consumer, 'node_modules', '@types'),
      path.join(consumer, 'src'),
    ]) {
      fs.mkdirSync(dir, { recursive: true });
    }
    const npmEnv = {
      ...process.env,
      npm_config_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };

    // `npm pack` runs the prepack script (`npm run build`); were there none, build here so the
    // tarball holds a fresh dist. When dist/ is already newer than every source (npm test's
    // pretest built it), the pack skips the rebuild: the Nest suites read dist/ meanwhile, in
    // another worker, and a rebuild deletes it first.
    if (pkg.scripts?.prepack === undefined)
      await timed('build', () => runOk('npm', ['run', 'build', '--silent'], ROOT, npmEnv));
    const rebuild = !builtAfterSources();
    await timed('pack', () =>
      runOk(
        'npm',
        [
          'pack',
          '--pack-destination',
          packDir,
          '--silent',
          ...(rebuild ? [] : ['--ignore-scripts']),
        ],
        ROOT,
        npmEnv,
      ),
    );
    const tarballs = fs.readdirSync(packDir).filter((name) => name.endsWith('.tgz'));
    if (tarballs.length !== 1)
      throw new Error(`npm pack left ${tarballs.length} tarballs in ${packDir}`);
    const tarball = path.join(packDir, tarballs[0] as string);

    await timed('install', async () => {
      const listing = await runOk('tar', ['-tzf', tarball], scratch);
      tarballFiles = listing
        .split('\n')
        .filter((line) => line !== '' && !line.endsWith('/'))
        .map((line) => line.replace(/^package\//, ''));
      await runOk('tar', ['-xzf', tarball, '-C', extractDir], scratch);
      fs.renameSync(
        path.join(extractDir, 'package'),
        path.join(consumer, 'node_modules', PACKAGE_NAME),
      );
      // No network: the runtime dependencies (and any peers installed here) come from this repository.
      const linked = [
        ...Object.keys({
          ...pkg.dependencies,
          ...pkg.peerDependencies,
          ...pkg.optionalDependencies,
        }),
        '@types/node',
      ];
      for (const name of linked) {
        const source = path.join(ROOT, 'node_modules', name);
        if (!fs.existsSync(source)) continue;
        const link = path.join(consumer, 'node_modules', name);
        fs.mkdirSync(path.dirname(link), { recursive: true });
        fs.symlinkSync(source, link, 'dir');
      }
      fs.writeFileSync(
        path.join(consumer, 'package.json'),
        JSON.stringify({ name: 'steadfast-consumer', version: '0.0.0', private: true }, null, 2),
      );
      for (const script of fs.readdirSync(path.join(FIXTURES, 'runtime'))) {
        fs.copyFileSync(path.join(FIXTURES, 'runtime', script), path.join(consumer, script));
      }
      const source = consumerSource();
      for (const name of ['consumer.ts', 'consumer.cts', 'consumer.mts'])
        fs.writeFileSync(path.join(consumer, 'src', name), source);
      for (const cell of cells)
        fs.writeFileSync(
          path.join(consumer, cell.config),
          `${JSON.stringify(tsconfigFor(cell), null, 2)}\n`,
        );
    });

    // The type-check matrix runs in the background while the runtime tests run.
    // One job per JavaScript compiler (all its cells, sharing parsed declaration files), the
    // longest first; then one job per cell for the CLI.
    const apiJobs: (() => Promise<void>)[] = [];
    const cliJobs: (() => Promise<void>)[] = [];
    for (const compiler of compilers) {
      const group = cells.filter((cell) => cell.compiler === compiler);
      if (compiler.native || FULL_TSC)
        cliJobs.push(...group.map((cell) => () => checkWithCli(compiler, cell, consumer, results)));
      else apiJobs.push(() => checkWithApi(compiler, group, consumer, results));
    }
    const jobs = [...apiJobs, ...cliJobs];
    const parallel = Math.max(2, os.availableParallelism());
    matrix = timed('type-check matrix', () => pool(jobs, parallel)).then(() => results);
    matrixSettled = matrix.catch(() => undefined);
  }, 90_000);

  afterAll(async () => {
    await Promise.race([matrixSettled, new Promise((resolve) => setTimeout(resolve, 1_000))]);
    for (const child of children) child.kill();
    if (process.env.STEADFAST_KEEP_PACKAGE_TEST_DIR === '1')
      console.log(`package test scratch directory kept: ${scratch}`);
    else if (scratch !== '') fs.rmSync(scratch, { recursive: true, force: true });

    const lines = cells.map((cell) => {
      const result = results.get(cell);
      const outcome =
        result === undefined
          ? 'not run'
          : cell.unsupported && result.codes.join() === String(cell.unsupported.code)
            ? `n/a: ${cell.unsupported.reason}`
            : result.diagnostics.length === 0
              ? 'ok'
              : `${result.diagnostics.length} error(s)`;
      return `  ${cell.compiler.id.padEnd(6)} ${cell.resolution.id.padEnd(9)} ${cell.mode.padEnd(9)} ${String(result?.ms ?? '-').padStart(6)} ms  ${outcome}`;
    });
    const phases = Object.entries(timings).map(
      ([label, ms]) => `${label} ${(ms / 1000).toFixed(1)} s`,
    );
    console.log(
      [
        `package tests: ${((Date.now() - startedAt) / 1000).toFixed(1)} s in all (${phases.join(', ')}), ${os.availableParallelism()} cores`,
        `  ${'tsc'.padEnd(6)} ${'moduleRes'.padEnd(9)} ${'decorators'.padEnd(9)} ${'time'.padStart(9)}  result`,
        ...lines,
      ].join('\n'),
    );
  });

  describe('tarball', () => {
    it('holds dist/cjs, dist/esm and package.json, and no sources, tests or .ts files but declarations', () => {
      expect(tarballFiles.some((file) => file.startsWith('dist/cjs/'))).toBe(true);
      expect(tarballFiles.some((file) => file.startsWith('dist/esm/'))).toBe(true);
      expect(tarballFiles).toContain('package.json');
      const unwanted = tarballFiles.filter(
        (file) =>
          /^(src|test|node_modules)\//.test(file) ||
          (/\.[cm]?tsx?$/.test(file) && !/\.d\.[cm]?ts$/.test(file)),
      );
      expect(unwanted).toEqual([]);
    });

    it('holds README.md', () => {
      expect(tarballFiles).toContain('README.md');
    });

    it('holds LICENSE: the repository’s MIT text, the license package.json names', () => {
      expect(pkg.license).toBe('MIT');
      expect(tarballFiles).toContain('LICENSE');
      const shipped = fs.readFileSync(
        path.join(consumer, 'node_modules', PACKAGE_NAME, 'LICENSE'),
        'utf8',
      );
      expect(shipped).toBe(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'));
      expect(shipped).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} the steadfast developers\n/);
    });

    it('gives every entry point import and require conditions, each with types (listed first)', () => {
      expect(entryPoints.map((entry) => entry.subpath)).toContain('.');
      for (const entry of entryPoints) {
        const target = entry.raw as Record<string, Record<string, string>>;
        expect({ subpath: entry.subpath, conditions: Object.keys(target) }).toEqual({
          subpath: entry.subpath,
          conditions: ['import', 'require'],
        });
        for (const condition of ['import', 'require'] as const) {
          expect({
            subpath: entry.subpath,
            condition,
            keys: Object.keys(target[condition] ?? {}),
          }).toEqual({
            subpath: entry.subpath,
            condition,
            keys: ['types', 'default'],
          });
        }
      }
    });

    it('holds every file that exports, main, types and typesVersions name', () => {
      const named = new Set<string>();
      for (const entry of entryPoints) {
        for (const conditionSet of [entry.import, entry.require]) {
          if (conditionSet !== undefined)
            [conditionSet.types, conditionSet.default].forEach((file) => named.add(file));
        }
      }
      for (const file of [pkg.main, pkg.types]) if (file !== undefined) named.add(file);
      for (const mapping of Object.values(pkg.typesVersions ?? {}))
        for (const targets of Object.values(mapping)) targets.forEach((file) => named.add(file));
      const missing = [...named]
        .map((file) => path.posix.normalize(file))
        .filter((file) => !tarballFiles.includes(file));
      expect(missing).toEqual([]);
    });

    it('lets moduleResolution node (no exports) find the same types as require, for every entry point', () => {
      const found = entryPoints.map((entry) => ({
        entry: entry.specifier,
        types: node10Types(entry),
      }));
      const expected = entryPoints.map((entry) => ({
        entry: entry.specifier,
        types: entry.require?.types,
      }));
      expect(found.map((f) => ({ ...f, types: f.types && path.posix.normalize(f.types) }))).toEqual(
        expected.map((e) => ({ ...e, types: e.types && path.posix.normalize(e.types) })),
      );
    });
  });

  describe('at run time on Node', () => {
    /** Each script's report (a JSON object); each script runs once. */
    const reports = new Map<string, Promise<Record<string, unknown>>>();
    const report = (script: string): Promise<Record<string, unknown>> => {
      if (!reports.has(script)) {
        const result = runOk(process.execPath, [script, JSON.stringify(specifiers)], consumer).then(
          (stdout) => JSON.parse(stdout) as Record<string, unknown>,
        );
        result.catch(() => undefined);
        reports.set(script, result);
      }
      return reports.get(script) as Promise<Record<string, unknown>>;
    };

    it('has reflect-metadata as its only runtime dependency, and only optional peers', () => {
      expect(Object.keys(pkg.dependencies ?? {})).toEqual(['reflect-metadata']);
      const peers = Object.keys(pkg.peerDependencies ?? {});
      expect(peers.sort()).toEqual([
        '@nestjs/common',
        '@nestjs/core',
        '@opentelemetry/api',
        'ioredis',
        'redis',
        'rxjs',
      ]);
      for (const peer of peers)
        expect([peer, pkg.peerDependenciesMeta?.[peer]?.optional]).toEqual([peer, true]);
    });

    it('loads ioredis, node-redis, NestJS, rxjs and OpenTelemetry only where they are needed, though all are installed', async () => {
      const loadedPeers = (entries: string[]): Promise<string[]> =>
        runOk(
          process.execPath,
          [
            '-e',
            `for (const entry of ${JSON.stringify(entries)}) require(entry);` +
              'console.log(JSON.stringify([...new Set(Object.keys(require.cache).map((f) => /node_modules[\\/](ioredis|redis|@redis[\\/][^\\/]+|rxjs|@nestjs[\\/][^\\/]+|@opentelemetry[\\/][^\\/]+)[\\/]/.exec(f)?.[1]).filter(Boolean))].sort()))',
          ],
          consumer,
        ).then((stdout) => JSON.parse(stdout) as string[]);
      expect(await loadedPeers(['steadfast', 'steadfast/testing'])).toEqual([]);
      // The same check sees them when an entry point that needs them is loaded.
      // steadfast/redis loads a client library only when a store is made from a URL (ioredis first).
      expect(await loadedPeers(['steadfast/redis'])).toEqual([]);
      expect(await loadedPeers(['steadfast/nestjs'])).toEqual(
        expect.arrayContaining(['@nestjs/common']),
      );
      expect(await loadedPeers(['steadfast/opentelemetry'])).toEqual(['@opentelemetry/api']);
    });

    it('runs the IdempotencyStore conformance suite from steadfast/testing under node:test, without jest', async () => {
      // The consumer has no jest installed: steadfast/testing must load and run without it.
      expect(fs.existsSync(path.join(consumer, 'node_modules', 'jest'))).toBe(false);
      const tap = await runOk(
        process.execPath,
        ['--test', '--test-reporter=tap', 'conformance.test.mjs'],
        consumer,
      );
      const count = (name: string): number =>
        Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(tap)?.[1] ?? NaN);
      expect({ fail: count('fail'), pass: count('pass') > 10 }).toEqual({ fail: 0, pass: true });
      expect(tap).toMatch(/^\s*ok \d+ - lets exactly one of many concurrent claims/m);
    });

    it('require() loads every entry point, and the exports map refuses deep paths', async () => {
      expect(Object.keys(await report('require.cjs'))).toEqual(specifiers);
    });

    it('import loads every entry point with the names require gives, and refuses deep paths', async () => {
      const viaImport = await report('import.mjs');
      expect(Object.keys(viaImport)).toEqual(specifiers);
      expect(viaImport).toEqual(await report('require.cjs'));
    });

    it('gives import and require one module instance: a method marked through one is retried by the other', async () => {
      const dual = (await report('dual.mjs')) as {
        compared: Record<string, number>;
        results: Record<string, { calls: number; retries: number }>;
        control: string;
      };
      expect(Object.keys(dual.compared)).toEqual(specifiers);
      expect(Object.values(dual.results)).toEqual(Array(4).fill({ calls: 3, retries: 2 }));
      expect(dual.control).toBe('STEADFAST_NOT_IDEMPOTENT');
    });
  });

  describe('types', () => {
    it.each(cells)(
      '$title',
      async (cell) => {
        if (matrix === undefined) throw new Error('the type-check matrix did not start');
        const result = (await matrix).get(cell);
        if (result === undefined) throw new Error(`no result for ${cell.config}`);
        if (cell.unsupported) {
          expect(result.codes).toEqual([cell.unsupported.code]);
          return;
        }
        // No diagnostics at all: the package's own .d.ts files check, and every `@ts-expect-error` in
        // the consumer was needed (an unused one is an error), so the decorators' types are real.
        expect(result.diagnostics).toEqual([]);

        const steadfastDir = path.join(consumer, 'node_modules', PACKAGE_NAME);
        const loaded = result.files.map((file) => path.resolve(consumer, file));
        const expected = cell.resolution.expects.flatMap((kind) =>
          entryPoints.map((entry) => {
            const types = kind === 'node10' ? node10Types(entry) : entry[kind]?.types;
            return `${entry.specifier} (${kind}) -> ${types === undefined ? '(none)' : path.join(steadfastDir, types)}`;
          }),
        );
        const missing = expected.filter(
          (line) => !loaded.includes(line.split(' -> ')[1] as string),
        );
        expect(missing).toEqual([]);
        if (!cell.resolution.expects.includes('import')) {
          expect(
            loaded.filter((file) => file.startsWith(steadfastDir) && file.endsWith('.d.mts')),
          ).toEqual([]);
        }
      },
      MATRIX_TIMEOUT,
    );
  });
});

// `npm install` rewrites the lock's root entry whenever it differs from package.json, so a field
// edited by hand (a peer, a range, the version) leaves a lock that the next fresh clone changes.
/** The package.json fields npm copies verbatim into the lock's root entry (@npmcli/arborist, shrinkwrap.js). */
const LOCK_ROOT_FIELDS = [
  'name',
  'version',
  'license',
  'dependencies',
  'devDependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'optionalDependencies',
  'bundleDependencies',
  'engines',
  'os',
  'cpu',
  'libc',
  'workspaces',
] as const;

suite('package-lock.json', () => {
  it('records in its root entry what package.json declares, as `npm install` would write it', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
      name?: unknown;
      version?: unknown;
      lockfileVersion?: unknown;
      packages?: Record<string, Record<string, unknown>>;
    };
    // npm leaves out empty objects (but writes devDependencies even when empty).
    const declared = (field: string): unknown => {
      const value = manifest[field];
      const empty = typeof value === 'object' && value !== null && Object.keys(value).length === 0;
      return empty && field !== 'devDependencies' ? undefined : value;
    };
    const root = lock.packages?.[''] ?? {};
    expect(LOCK_ROOT_FIELDS.map((field) => [field, root[field]])).toEqual(
      LOCK_ROOT_FIELDS.map((field) => [field, declared(field)]),
    );
    expect([lock.name, lock.version, lock.lockfileVersion]).toEqual([
      manifest.name,
      manifest.version,
      3,
    ]);
  });
});

/** Whether dist/ was built after the last change to src/ (and to package.json and tsconfigs). */
function builtAfterSources(): boolean {
  const built = path.join(ROOT, 'dist', 'cjs', 'index.js');
  if (!fs.existsSync(built)) return false;
  const builtAt = fs.statSync(built).mtimeMs;
  const newest = (dir: string): number =>
    Math.max(
      0,
      ...fs.readdirSync(dir, { withFileTypes: true }).map((entry) => {
        const at = path.join(dir, entry.name);
        return entry.isDirectory() ? newest(at) : fs.statSync(at).mtimeMs;
      }),
    );
  const inputs = ['package.json', 'tsconfig.json', 'tsconfig.build.json'].map(
    (file) => fs.statSync(path.join(ROOT, file)).mtimeMs,
  );
  return builtAt > Math.max(newest(path.join(ROOT, 'src')), ...inputs);
}
