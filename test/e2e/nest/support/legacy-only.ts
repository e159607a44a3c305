declare const STEADFAST_DECORATOR_MODE: 'legacy' | 'standard';

/**
 * Runs a Nest suite in the 'legacy' jest project only: NestJS's decorators are legacy decorators,
 * so its code neither compiles nor runs with standard ECMAScript decorators. The suite file is
 * required only in legacy mode (in standard mode it would fail while loading).
 */
export function legacyOnly(title: string, loadSuite: () => unknown): void {
  if (STEADFAST_DECORATOR_MODE === 'legacy') {
    loadSuite();
    return;
  }
  console.log(
    `${title}: skipped in the '${STEADFAST_DECORATOR_MODE}' jest project, NestJS needs legacy decorators (it runs in 'legacy')`,
  );
  it.skip(title, () => undefined);
}
