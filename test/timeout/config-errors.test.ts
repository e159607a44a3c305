import { Timeout } from '../../src';
import {
  decoratorMode,
  expectConfigError,
  track,
  rawDecorator,
  useStageHarness,
} from '../pipeline/support';

/** [what is wrong, the option named, the decorator's arguments] */
const invalid: [string, string, unknown[]][] = [
  ['0 ms', 'attempt', [0]],
  ['-1 ms', 'attempt', [-1]],
  ['NaN', 'attempt', [NaN]],
  ['Infinity', 'attempt', [Infinity]],
  ['2147483648 ms (past the longest timer)', 'attempt', [2_147_483_648]],
  ["'100' (a string)", 'options', ['100']],
  ['attempt 0', 'attempt', [{ attempt: 0 }]],
  ['attempt -5', 'attempt', [{ attempt: -5 }]],
  ["attempt '1s'", 'attempt', [{ attempt: '1s' }]],
  ['attempt NaN', 'attempt', [{ attempt: NaN }]],
  ['total 0', 'total', [{ total: 0 }]],
  ['total Infinity', 'total', [{ total: Infinity }]],
  ['total 2147483648', 'total', [{ total: 2_147_483_648 }]],
  ['total null', 'total', [{ total: null }]],
  ['attempt longer than total', 'attempt', [{ attempt: 500, total: 100 }]],
  ['neither attempt nor total', 'options', [{}]],
  ['the unknown option attempts (a typo)', 'attempts', [{ attempts: 100 }]],
  ['null', 'options', [null]],
];

describe(`@Timeout refuses bad options when the class is defined (${decoratorMode} decorators)`, () => {
  it.each(invalid)(
    'refuses %s with a ConfigError naming the option and the method',
    (_what, option, params) => {
      expectConfigError(
        () => {
          class Reports {
            @rawDecorator(Timeout, params)
            async build(): Promise<string> {
              return 'report';
            }
          }
          return Reports;
        },
        option,
        'Reports',
        'build',
      );
    },
  );

  it.each([
    ['no argument', []],
    ['two arguments', [100, 200]],
  ])('refuses %s with a ConfigError naming the method', (_what, params) => {
    expectConfigError(
      () => {
        class Reports {
          @rawDecorator(Timeout, params)
          async build(): Promise<string> {
            return 'report';
          }
        }
        return Reports;
      },
      undefined,
      'Reports',
      'build',
    );
  });

  it('refuses a second @Timeout on one method', () => {
    expectConfigError(
      () => {
        class Reports {
          @Timeout(100)
          @Timeout({ total: 1_000 })
          async build(): Promise<string> {
            return 'report';
          }
        }
        return Reports;
      },
      undefined,
      'Reports',
      'build',
    );
  });

  it.each([
    ['1 ms', [1]],
    ['0.5 ms', [0.5]],
    ['2147483647 ms', [2_147_483_647]],
    ['attempt equal to total', [{ attempt: 100, total: 100 }]],
    ['total only', [{ total: 100 }]],
    ['attempt only', [{ attempt: 100 }]],
  ])('accepts %s', async (_what, params) => {
    useStageHarness();
    class Reports {
      @rawDecorator(Timeout, params)
      async build(): Promise<string> {
        return 'report';
      }
    }

    expect(await new Reports().build()).toBe('report');
  });

  it('treats @Timeout(ms) as { attempt: ms }: the deadline is an attempt deadline', async () => {
    const h = useStageHarness();
    class Reports {
      @Timeout(100)
      async build(): Promise<string> {
        return new Promise<never>(() => undefined);
      }
    }

    const call = track(new Reports().build());
    await h.clock.advance(100);

    expect(call.error).toMatchObject({ kind: 'attempt', timeout: 100 });
  });
});
