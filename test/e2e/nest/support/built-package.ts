import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The repository root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

/**
 * The Nest suites use steadfast as an application does, by its package name: `steadfast` and
 * `steadfast/nestjs` resolve (through the package's self-reference) to the build in dist/. This
 * fails early, with the fix, when there is no build.
 */
export function requireBuild(): void {
  const entry = path.join(ROOT, 'dist', 'cjs', 'nestjs', 'index.js');
  if (!fs.existsSync(entry)) {
    throw new Error(
      `${path.relative(ROOT, entry)} is missing: the Nest suites run against the built package, run \`npm run build\` first`,
    );
  }
}

/**
 * Installs the package as `npm pack` makes it (without running `prepack`: dist/ is already built,
 * and rebuilding would pull it away from suites running in parallel) into `<project>/node_modules/steadfast`.
 */
export function installPackedSteadfast(project: string): string {
  requireBuild();
  const target = path.join(project, 'node_modules', 'steadfast');
  const scratch = fs.mkdtempSync(path.join(project, '.pack-'));
  try {
    const output = execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch],
      { cwd: ROOT, encoding: 'utf8' },
    );
    const [{ filename }] = JSON.parse(output) as { filename: string }[];
    fs.rmSync(target, { recursive: true, force: true });
    fs.mkdirSync(target, { recursive: true });
    execFileSync('tar', [
      '-xzf',
      path.join(scratch, path.basename(filename)),
      '-C',
      target,
      '--strip-components=1',
    ]);
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  return target;
}
