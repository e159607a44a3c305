// steadfast/nestjs as users get it: from the packed package, type-checked by a project configured
// as the Nest CLI configures one; Nest loaded by that entry point only; and the example started
// the way the README says.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { installPackedSteadfast, requireBuild, ROOT } from '../support/built-package';

requireBuild();

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1,
          stdout,
          stderr,
        });
      },
    );
  });
}

/** A scratch project with the packed steadfast and, linked from this repository, the packages named. */
function scratchProject(name: string, linked: string[]): string {
  const project = fs.mkdtempSync(path.join(os.tmpdir(), `steadfast-${name}-`));
  fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name, private: true }));
  for (const dependency of linked) {
    const link = path.join(project, 'node_modules', dependency);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', dependency), link, 'dir');
  }
  installPackedSteadfast(project);
  return project;
}

describe('steadfast/nestjs in a project made by the Nest CLI (CommonJS, moduleResolution node)', () => {
  let project: string;

  beforeAll(() => {
    project = scratchProject('nest-cli', [
      '@nestjs/common',
      '@nestjs/core',
      'reflect-metadata',
      'rxjs',
      '@types/node',
    ]);
    fs.cpSync(path.join(__dirname, '..', 'fixtures', 'nest-cli-consumer'), project, {
      recursive: true,
    });
  });

  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it('type-checks an app that imports steadfast/nestjs from the packed package, with skipLibCheck off', async () => {
    const result = await run(process.execPath, [TSC, '-p', 'tsconfig.json'], project);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);

  it('resolves the types through typesVersions, to the CommonJS declarations', async () => {
    const result = await run(
      process.execPath,
      [TSC, '-p', 'tsconfig.json', '--traceResolution'],
      project,
    );
    expect(result.stdout).toContain(
      "======== Module name 'steadfast/nestjs' was successfully resolved to '",
    );
    expect(result.stdout).toMatch(
      /'steadfast\/nestjs' was successfully resolved to '[^']*node_modules\/steadfast\/dist\/cjs\/nestjs\/index\.d\.ts'/,
    );
  }, 120_000);
});

describe('nothing of NestJS loads from the main entry point', () => {
  let project: string;

  beforeAll(() => {
    project = scratchProject('no-nest', ['reflect-metadata']);
  });

  afterAll(() => fs.rmSync(project, { recursive: true, force: true }));

  it('loads steadfast and steadfast/testing with require and import where no @nestjs package is installed', async () => {
    const script = `
      require('steadfast'); require('steadfast/testing');
      import('steadfast').then(() => import('steadfast/testing')).then(() => console.log('loaded'));`;
    const result = await run(process.execPath, ['-e', script], project);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('loaded');
  }, 60_000);

  it('fails to load steadfast/nestjs there, naming the missing peer', async () => {
    const result = await run(process.execPath, ['-e', "require('steadfast/nestjs')"], project);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("Cannot find module '@nestjs/common'");
  }, 60_000);

  it('loads no @nestjs module with the main entry where NestJS is installed', async () => {
    const script = `
      require('steadfast');
      const loaded = Object.keys(require.cache).filter((file) => file.includes('@nestjs'));
      console.log(JSON.stringify(loaded));`;
    const result = await run(process.execPath, ['-e', script], ROOT);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual([]);
  }, 60_000);
});

describe('the example and the Nest suites', () => {
  it('type-check in legacy decorator mode', async () => {
    const [example, suites] = await Promise.all([
      run(process.execPath, [TSC, '-p', 'examples/nest-app/tsconfig.json'], ROOT),
      run(process.execPath, [TSC, '-p', 'test/e2e/nest/tsconfig.json'], ROOT),
    ]);
    expect(example.stdout + example.stderr).toBe('');
    expect(suites.stdout + suites.stderr).toBe('');
  }, 180_000);

  it("start as the README's command starts them, and answer on 127.0.0.1", async () => {
    // `npm run example:nest` = `npm run build` + this (the build is left out here: other suites use dist/)
    const tsNode = require.resolve('ts-node/dist/bin.js', { paths: [ROOT] });
    const child: ChildProcess = spawn(
      process.execPath,
      [
        tsNode,
        '--transpile-only',
        '-P',
        'examples/nest-app/tsconfig.json',
        'examples/nest-app/src/main.ts',
      ],
      {
        cwd: ROOT,
        env: { ...process.env, PORT: '0', NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer): void => {
          output += chunk.toString();
          const match = /order service listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
          if (match?.[1] !== undefined) resolve(match[1]);
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        child.on('exit', (code) =>
          reject(new Error(`the example exited (${String(code)}) before listening:\n${output}`)),
        );
      });

      const stock = await fetch(`${url}/stock/kettle`);
      expect(stock.status).toBe(200);
      expect(await stock.json()).toEqual({ sku: 'kettle', available: 12 });
      const order = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'readme-1' },
        body: JSON.stringify({ sku: 'kettle', quantity: 1 }),
      });
      expect(order.status).toBe(201);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    }
  }, 120_000);
});
