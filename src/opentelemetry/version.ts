import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let found: { readonly version: string | undefined } | undefined;

/**
 * steadfast's version (package.json's), for the meter's and the tracer's scope: read once, from
 * the nearest package.json named `steadfast` above this file (dist/cjs/opentelemetry/ when
 * installed, src/opentelemetry/ in this repository). undefined where none is found (a bundle).
 */
export function steadfastVersion(): string | undefined {
  if (found !== undefined) return found.version;
  found = { version: undefined };
  for (let dir = __dirname, level = 0; level < 5; level++, dir = dirname(dir)) {
    let manifest: unknown;
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const { name, version } = manifest as { name?: unknown; version?: unknown };
    if (name !== 'steadfast') continue;
    found = { version: typeof version === 'string' ? version : undefined };
    break;
  }
  return found.version;
}
