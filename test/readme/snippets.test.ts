import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkSnippets, extractSnippets, type Snippet, type SnippetCheck } from './snippets';

declare const STEADFAST_DECORATOR_MODE: 'legacy' | 'standard';

const readmePath = path.resolve(__dirname, '../../README.md');
const readme = extractSnippets(readFileSync(readmePath, 'utf8'), 'README.md');

// A document made to fail in known places, checked in the same program as the README: it shows
// that a block that does not compile is reported at its own line, and what preludes and markers do.
const fixture = [
  '# Fixture', //                                                         1
  '```ts', //                                                             2
  "import { Retryable } from 'steadfast';", //                           3
  "const count: number = 'three';", //                                   4
  'export const retryable = Retryable(count);', //                        5
  '```', //                                                               6
  '<!-- snippet-prelude: declare const cache: Map<string, number>; -->', // 7
  '```ts', //                                                             8
  "const hit: number | undefined = cache.get('k');", //                  9
  'const count = 1;', //                                                 10
  '```', //                                                              11
  '```typescript', //                                                    12
  "const miss: number | undefined = cache.get('k');", //                 13
  'const count = 2;', //                                                 14
  '```', //                                                              15
  '<!-- snippet: not-compiled (a list of signatures) -->', //            16
  '```ts', //                                                            17
  '@Retryable(options?)', //                                             18
  '```', //                                                              19
  '<!--', //                                                             20
  'snippet-prelude:', //                                                 21
  "import { FakeClock } from 'steadfast/testing';", //                   22
  "import type { RedisStore } from 'steadfast/redis';", //               23
  "import type { ResilienceModule } from 'steadfast/nestjs';", //        24
  '-->', //                                                              25
  '```ts', //                                                            26
  'export const clock: FakeClock = new FakeClock();', //                 27
  'export type Fleet = [RedisStore, typeof ResilienceModule];', //       28
  'clock.advance();', //                                                 29
  '```', //                                                              30
].join('\n');

const misplaced = [
  '<!-- snippet: not-compiled () -->', //                                  1
  '```ts', //                                                              2
  'x', //                                                                  3
  '```', //                                                                4
  '<!-- snippet-prelude: declare const a: number; -->', //                 5
  '', //                                                                   6
  '```ts', //                                                              7
  'a;', //                                                                 8
  '```', //                                                                9
  '<!-- snippet-prelude: declare const b: number; -->', //                10
  '```sh', //                                                             11
  'npm test', //                                                          12
  '```', //                                                               13
  '<!-- snippet: compiled-later -->', //                                  14
  '```ts', //                                                             15
  'export {};', //                                                        16
  '```', //                                                               17
  '<!-- snippet-prelude: declare const c: number; -->', //                18
  '<!-- snippet: not-compiled (a signature) -->', //                      19
  '```ts', //                                                             20
  'c;', //                                                                21
  '```', //                                                               22
].join('\n');

if (STEADFAST_DECORATOR_MODE === 'legacy') {
  describe('README.md TypeScript blocks', () => {
    const fixtureBlocks = extractSnippets(fixture, 'fixture.md');
    let check: SnippetCheck;
    const errorsOf = (snippet: Snippet | undefined): string[] => {
      if (snippet === undefined) throw new Error('no such block');
      return check.bySnippet.get(snippet)!;
    };
    const fixtureBlock = (fenceLine: number): Snippet | undefined =>
      fixtureBlocks.compiled.find((snippet) => snippet.fenceLine === fenceLine);

    beforeAll(() => {
      check = checkSnippets([...readme.compiled, ...fixtureBlocks.compiled]);
    }, 120_000);

    it('finds every ```ts block of the README, compiled or marked not-compiled with a reason', () => {
      const fences = readFileSync(readmePath, 'utf8')
        .split('\n')
        .filter((line) => /^\s*```(ts|typescript)\s*$/.test(line)).length;
      expect(readme.compiled.length).toBeGreaterThan(10);
      expect(readme.compiled.length + readme.skipped.length).toBe(fences);
      expect(readme.problems).toEqual([]);
      for (const skipped of readme.skipped) expect(skipped.reason).not.toBe('');
    });

    it('type-checks them in a program that has no option or global errors', () => {
      expect(check.programWide).toEqual([]);
    });

    it.each(readme.compiled.map((snippet) => [snippet.fenceLine, snippet] as const))(
      'compiles the block at README.md:%d',
      (_line, snippet) => {
        expect(errorsOf(snippet)).toEqual([]);
      },
    );

    describe('on a document made to fail', () => {
      it('names the document line of each error', () => {
        const errors = errorsOf(fixtureBlock(2));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(
          /^fixture\.md:4: TS2322: Type 'string' is not assignable to type 'number'/,
        );
      });

      it('compiles a block with the prelude above it', () => {
        expect(errorsOf(fixtureBlock(8))).toEqual([]);
      });

      it("compiles each block as a module of its own: another block's prelude and `count` are not seen", () => {
        expect(errorsOf(fixtureBlock(12))).toEqual([
          "fixture.md:13: TS2304: Cannot find name 'cache'.",
        ]);
      });

      it('resolves every entry point, and reports a block line past a multi-line prelude', () => {
        const errors = errorsOf(fixtureBlock(26));
        expect(errors).toHaveLength(1);
        expect(errors[0]).toMatch(/^fixture\.md:29: TS2554: Expected 1 arguments, but got 0/);
      });

      it('leaves a block marked not-compiled out, with its reason', () => {
        expect(fixtureBlocks.skipped).toEqual([
          { source: 'fixture.md', fenceLine: 17, reason: 'a list of signatures' },
        ]);
        expect(fixtureBlocks.problems).toEqual([]);
      });

      it('refuses a marker without a reason, a misplaced or unknown comment, a block both skipped and given a prelude', () => {
        const extraction = extractSnippets(misplaced, 'misplaced.md');
        expect(extraction.problems).toEqual([
          'misplaced.md:1: snippet: not-compiled needs a reason in parentheses',
          'misplaced.md:5: a snippet comment must be right above a ```ts block',
          'misplaced.md:10: a snippet comment must be right above a ```ts block',
          expect.stringMatching(/^misplaced\.md:14: unknown snippet comment/),
          'misplaced.md:20: a block is either not compiled or given a prelude, not both',
        ]);
      });
    });
  });
} else {
  console.log(
    `README.md TypeScript blocks: skipped in the '${STEADFAST_DECORATOR_MODE}' jest project: the blocks are compiled with legacy decorators and emitDecoratorMetadata (as NestJS apps are) whatever the project, so the 'legacy' run checks them all`,
  );
  it.skip('README.md TypeScript blocks (checked in the legacy jest project)', () => undefined);
}
