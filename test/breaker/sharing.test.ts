import { CircuitBreaker, ConfigError, defaultEngine } from '../../src';
import { decoratorMode, useHarness } from '../support/harness';
import { breakerNamed, DownstreamError, refusalOf, rejectionOf, uniqueCircuit } from './support';

describe(`@CircuitBreaker sharing and scope (${decoratorMode} decorators)`, () => {
  describe("scope: 'instance'", () => {
    function perInstanceClient(name: string) {
      const runs = new Map<string, number>();
      class Tenant {
        constructor(readonly id: string) {}

        @CircuitBreaker({ name, scope: 'instance', consecutiveFailures: 2, openDuration: 10_000 })
        async query(fails: boolean): Promise<string> {
          runs.set(this.id, (runs.get(this.id) ?? 0) + 1);
          if (fails) throw new DownstreamError(`${this.id} down`);
          return `${this.id} ok`;
        }
      }
      return { Tenant, runs };
    }

    it("opens one instance's breaker without touching another's", async () => {
      useHarness();
      const name = uniqueCircuit('instance-isolation');
      const { Tenant, runs } = perInstanceClient(name);
      const acme = new Tenant('acme');
      const globex = new Tenant('globex');

      await rejectionOf(acme.query(true));
      await rejectionOf(acme.query(true));

      expect((await refusalOf(acme.query(false))).circuit).toBe(name);
      await expect(globex.query(false)).resolves.toBe('globex ok');
      expect(runs.get('acme')).toBe(2);
      expect(runs.get('globex')).toBe(1);
    });

    it('gives each instance its own handle through defaultEngine.breaker(name, instance)', async () => {
      useHarness();
      const name = uniqueCircuit('instance-handle');
      const { Tenant } = perInstanceClient(name);
      const acme = new Tenant('acme');
      const globex = new Tenant('globex');
      await rejectionOf(acme.query(true));
      await rejectionOf(acme.query(true));
      await globex.query(false);

      expect(defaultEngine.breaker(name, acme).state).toBe('open');
      expect(defaultEngine.breaker(name, globex).metrics()).toMatchObject({
        state: 'closed',
        calls: 1,
        failures: 0,
      });

      // The handle controls the very breaker that instance's calls go through.
      defaultEngine.breaker(name, globex).isolate();
      expect((await refusalOf(globex.query(false))).state).toBe('isolated');
      defaultEngine.breaker(name, acme).reset();
      await expect(acme.query(false)).resolves.toBe('acme ok');
    });

    it('refuses defaultEngine.breaker(name) without an instance with a ConfigError naming the scope', async () => {
      useHarness();
      const name = uniqueCircuit('instance-no-instance');
      const { Tenant } = perInstanceClient(name);
      await new Tenant('acme').query(false);

      let thrown: unknown;
      try {
        defaultEngine.breaker(name);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as ConfigError).option).toBe('scope');
      expect((thrown as ConfigError).message).toContain(name);
    });
  });

  describe('by explicit name', () => {
    it('is one breaker for two classes that give the same name and options', async () => {
      useHarness();
      const name = uniqueCircuit('shared-same-options');
      let paymentRuns = 0;
      let refundRuns = 0;
      class Payments {
        @CircuitBreaker({ name, consecutiveFailures: 2 })
        async charge(): Promise<string> {
          paymentRuns++;
          throw new DownstreamError('psp down');
        }
      }
      class Refunds {
        @CircuitBreaker({ name, consecutiveFailures: 2 })
        async refund(): Promise<string> {
          refundRuns++;
          return 'refunded';
        }
      }

      await rejectionOf(new Payments().charge());
      await rejectionOf(new Payments().charge());

      const refusal = await refusalOf(new Refunds().refund());
      expect(refusal.circuit).toBe(name);
      expect(refundRuns).toBe(0);
      expect(paymentRuns).toBe(2);
    });

    it('lets a class that gives only the name join the breaker configured by an earlier class', async () => {
      useHarness();
      const name = uniqueCircuit('shared-join-after');
      class Configures {
        @CircuitBreaker({ name, consecutiveFailures: 2 })
        async first(): Promise<string> {
          return 'first';
        }
      }
      class Joins {
        @CircuitBreaker({ name })
        async second(): Promise<string> {
          throw new DownstreamError('down');
        }
      }

      // Two failures open it: the joiner runs on the configured options, not the default of 5.
      await rejectionOf(new Joins().second());
      await rejectionOf(new Joins().second());
      expect(breakerNamed(name).state).toBe('open');
      expect((await refusalOf(new Configures().first())).circuit).toBe(name);
    });

    it('lets a class that gives only the name join the breaker configured by a later class', async () => {
      useHarness();
      const name = uniqueCircuit('shared-join-before');
      let joinerRuns = 0;
      class Joins {
        @CircuitBreaker({ name })
        async first(): Promise<string> {
          joinerRuns++;
          throw new DownstreamError('down');
        }
      }
      class Configures {
        @CircuitBreaker({ name, consecutiveFailures: 2 })
        async second(): Promise<string> {
          return 'second';
        }
      }

      await rejectionOf(new Joins().first());
      await rejectionOf(new Joins().first());

      expect(breakerNamed(name).state).toBe('open');
      expect((await refusalOf(new Configures().second())).circuit).toBe(name);
      await refusalOf(new Joins().first());
      expect(joinerRuns).toBe(2);
    });
  });

  describe('by default name', () => {
    it('names the breaker Class.method, in events, errors and defaultEngine.breaker()', async () => {
      const h = useHarness();
      let runs = 0;
      class Thermostat {
        @CircuitBreaker({ consecutiveFailures: 1, openDuration: 1_000 })
        async read(): Promise<number> {
          runs++;
          throw new DownstreamError('sensor offline');
        }
      }

      await rejectionOf(new Thermostat().read());

      expect(h.events('stateChange')).toEqual([
        {
          circuit: 'Thermostat.read',
          from: 'closed',
          to: 'open',
          reason: '1 consecutive failures',
        },
      ]);
      const handle = defaultEngine.breaker('Thermostat.read');
      expect(handle.name).toBe('Thermostat.read');
      expect(handle.state).toBe('open');
      expect((await refusalOf(new Thermostat().read())).circuit).toBe('Thermostat.read');
      expect(runs).toBe(1);
    });

    it('gives each decorated method its own breaker', async () => {
      useHarness();
      class Boiler {
        @CircuitBreaker({ consecutiveFailures: 1 })
        async ignite(): Promise<string> {
          throw new DownstreamError('no gas');
        }

        @CircuitBreaker({ consecutiveFailures: 1 })
        async temperature(): Promise<string> {
          return '60°C';
        }
      }
      class Radiator {
        @CircuitBreaker({ consecutiveFailures: 1 })
        async ignite(): Promise<string> {
          return 'warm';
        }
      }

      await rejectionOf(new Boiler().ignite());

      expect(defaultEngine.breaker('Boiler.ignite').state).toBe('open');
      await expect(new Boiler().temperature()).resolves.toBe('60°C');
      await expect(new Radiator().ignite()).resolves.toBe('warm');
      expect(defaultEngine.breaker('Boiler.temperature').state).toBe('closed');
      expect(defaultEngine.breaker('Radiator.ignite').state).toBe('closed');
    });
  });
});
