// @Timeout, @Bulkhead and @Fallback in a real Nest application over HTTP, with the exception filter.
import request from 'supertest';
import { ResilienceModule } from 'steadfast/nestjs';
import { HangingDependency, QuotesModule } from '../fixtures/stages-fixtures';
import { requireBuild } from '../support/built-package';
import { startApp, type RunningApp } from '../support/start-app';

requireBuild();

describe('timeouts, bulkheads and fallbacks in a Nest application', () => {
  let running: RunningApp;
  let dependency: HangingDependency;

  beforeEach(async () => {
    running = await startApp({ imports: [ResilienceModule.forRoot({}), QuotesModule] });
    dependency = running.app.get(HangingDependency);
  });

  afterEach(async () => {
    dependency.releaseAll();
    await running.app.close();
  });

  const api = () => request(running.url);

  it('answers 504 when every attempt at a hung dependency timed out, and tells each attempt to stop', async () => {
    const response = await api().get('/quotes/live').expect(504);

    expect(response.body).toEqual({
      statusCode: 504,
      error: 'Gateway Timeout',
      message: 'A service this request depends on did not answer in time.',
      code: 'STEADFAST_TIMEOUT',
    });
    expect(dependency.calls).toBe(2);
    expect(dependency.aborted).toBe(2);
  });

  it('answers 503 with Retry-After when the bulkhead is full', async () => {
    const first = api()
      .get('/quotes/exclusive')
      .then((response) => response);
    // Wait until the first request holds the only slot.
    for (let tries = 0; dependency.calls === 0 && tries < 200; tries++)
      await new Promise((resolve) => setTimeout(resolve, 5));

    const refused = await api().get('/quotes/exclusive').expect(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatchObject({ statusCode: 503, code: 'STEADFAST_BULKHEAD_FULL' });
    expect(dependency.calls).toBe(1);

    dependency.releaseAll();
    await expect(first).resolves.toMatchObject({ status: 200, text: 'answered' });
  });

  it('answers with the fallback when the attempt timed out', async () => {
    await api().get('/quotes/with-fallback').expect(200, 'cached quote');
    expect(running.logger.inContext('steadfast').map((entry) => entry.level)).toEqual(['warn']);
  });
});
