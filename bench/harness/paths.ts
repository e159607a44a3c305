import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The steadfast checkout: the bench runs from bench/ (ts-node) or from its transpiled copy under
 * .tmp/ (npm run bench), so the root is found by its package.json, not by a fixed depth.
 */
export function projectRoot(): string {
  for (let directory = __dirname; ; directory = dirname(directory)) {
    const manifest = join(directory, 'package.json');
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'steadfast'
    )
      return directory;
    if (dirname(directory) === directory)
      throw new Error(`no steadfast package.json above ${__dirname}`);
  }
}
