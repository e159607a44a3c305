import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './paths';

export interface Environment {
  readonly machine: string;
  readonly node: string;
  /** 1-minute load average when the run started; other processes on the machine skew the numbers */
  readonly load: string;
  /** package name → version (steadfast: its version and commit) */
  readonly libraries: ReadonlyMap<string, string>;
}

const ROOT = projectRoot();

function packageVersion(directory: string): string {
  try {
    return (
      (JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as { version?: string })
        .version ?? '?'
    );
  } catch {
    return 'not installed';
  }
}

function steadfastRevision(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src'], {
        cwd: ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return `${commit}${dirty ? ', src/ with uncommitted changes' : ''}`;
  } catch {
    return 'no git';
  }
}

/** Where the numbers come from: machine, Node, and the version of every library measured. */
export function describeEnvironment(
  libraries: readonly string[],
  loadAtStart: number,
): Environment {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  const memory = `${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const versions = new Map<string, string>();
  for (const library of libraries) {
    versions.set(
      library,
      library === 'steadfast'
        ? `${packageVersion(ROOT)} (${steadfastRevision()}, from src/)`
        : packageVersion(join(ROOT, 'node_modules', library)),
    );
  }
  return {
    machine: `${model}, ${cores.length} logical cores, ${memory} RAM, ${type()} ${release()} ${arch()}`,
    node: `${process.version} (V8 ${process.versions.v8})`,
    load: `${loadAtStart.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (1-minute load average, ${cores.length} cores)`,
    libraries: versions,
  };
}
