import {
  GUARDS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
} from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common';
import request from 'supertest';
import { ResilienceModule } from 'steadfast/nestjs';
import {
  Attempts,
  DecoratorOrdersController,
  DecoratorOrdersModule,
  generatedRoutes,
  LetInGuard,
  ROLE,
  type GeneratedRoute,
} from '../fixtures/decorator-orders';
import { requireBuild } from '../support/built-package';
import { startApp, type RunningApp } from '../support/start-app';

requireBuild();

describe('steadfast decorators next to NestJS decorators', () => {
  let running: RunningApp;
  let attempts: Attempts;

  beforeAll(async () => {
    running = await startApp({
      imports: [ResilienceModule.forRoot({ logger: false }), DecoratorOrdersModule],
    });
    attempts = running.app.get(Attempts);
  });

  afterAll(async () => {
    await running?.app.close();
  });

  const base = '/orders-of-decorators';
  const url = (route: GeneratedRoute | string, id: string | number): string =>
    `${base}/${(typeof route === 'string' ? route : route.path).replace(':id', String(id))}`;
  const label = (route: GeneratedRoute): string => route.written.join(' ');

  describe('written out as users write them', () => {
    it('routes, retries once, and keeps this and the injected service: steadfast decorators below @Get', async () => {
      const answer = await request(running.url)
        .get(url('written/steadfast-first/:id', 7))
        .expect(200);
      expect(answer.body).toEqual({
        route: 'written/steadfast-first',
        id: 7,
        attempt: 2,
        boundToController: true,
      });
    });

    it('the same with the steadfast decorators above @Get', async () => {
      const answer = await request(running.url)
        .get(url('written/steadfast-above/:id', 8))
        .expect(200);
      expect(answer.body).toEqual({
        route: 'written/steadfast-above',
        id: 8,
        attempt: 2,
        boundToController: true,
      });
    });

    it('keeps guards, metadata, pipes, @HttpCode, @Header and @Query when interleaved with them', async () => {
      const path = url('written/interleaved/:id', 4);
      await request(running.url).get(path).set('x-let-in', 'yes').expect(403); // SetMetadata role 'clerk', read by the controller's guard
      await request(running.url).get(path).set('x-role', 'clerk').expect(403); // the handler's own guard
      expect(attempts.of('written/interleaved')).toBe(0);

      const answer = await request(running.url)
        .get(`${path}?note=hello`)
        .set('x-role', 'clerk')
        .set('x-let-in', 'yes')
        .expect(203);

      expect(answer.headers['x-written']).toBe('interleaved');
      expect(answer.body).toEqual({
        route: 'written/interleaved',
        id: 44,
        attempt: 2,
        boundToController: true,
        note: 'hello',
      });
    });

    it('runs pipes before the handler: a parameter ParseIntPipe refuses is a 400, and no attempt is made', async () => {
      await request(running.url).get(url('written/steadfast-first/:id', 'seven')).expect(400);
      await request(running.url).get(url('written/steadfast-above/:id', 'eight')).expect(400);
      expect(attempts.of('written/steadfast-first')).toBe(2);
      expect(attempts.of('written/steadfast-above')).toBe(2);
    });

    it('replays a keyed @Idempotent POST to a duplicate, with @Body and @Headers parameters', async () => {
      const first = await request(running.url)
        .post(`${base}/written/keyed`)
        .set('Idempotency-Key', 'k-1')
        .send({ id: 5 })
        .expect(200);
      const again = await request(running.url)
        .post(`${base}/written/keyed`)
        .set('Idempotency-Key', 'k-1')
        .send({ id: 5 })
        .expect(200);

      expect(first.body).toEqual({
        route: 'written/keyed',
        id: 5,
        attempt: 2,
        boundToController: true,
      });
      expect(again.body).toEqual(first.body);
      expect(attempts.of('written/keyed')).toBe(2);
    });

    it('leaves the metadata NestJS reads on the function it calls', () => {
      const handler = DecoratorOrdersController.prototype.interleaved;
      expect(Reflect.getMetadata(PATH_METADATA, handler)).toBe('written/interleaved/:id');
      expect(Reflect.getMetadata(METHOD_METADATA, handler)).toBe(RequestMethod.GET);
      expect(Reflect.getMetadata(GUARDS_METADATA, handler)).toEqual([LetInGuard]);
      expect(Reflect.getMetadata(HTTP_CODE_METADATA, handler)).toBe(203);
      expect(Reflect.getMetadata(ROLE, handler)).toBe('clerk');
      expect(handler.name).toBe('interleaved');
    });
  });

  const permutationRoutes = generatedRoutes.filter((route) => route.extra === undefined);

  it('generates the 24 orders of @Idempotent, @Retryable, @CircuitBreaker and @Get', () => {
    expect(new Set(permutationRoutes.map(label)).size).toBe(24);
  });

  describe.each(permutationRoutes.map((route) => [label(route), route] as const))(
    '%s',
    (_written, route) => {
      it('routes, passes the parameter through its pipe, retries the failed first attempt, keeps this', async () => {
        const answer = await request(running.url).get(url(route, 12)).expect(200);
        expect(answer.body).toEqual({
          route: route.path,
          id: 12,
          attempt: 2,
          boundToController: true,
        });
        await request(running.url).get(url(route, 'twelve')).expect(400);
        expect(attempts.of(route.path)).toBe(2);
      });
    },
  );

  const extraRoutes = generatedRoutes.filter((route) => route.extra !== undefined);

  describe.each(extraRoutes.map((route) => [label(route), route] as const))(
    '%s',
    (_written, route) => {
      it(`keeps what ${route.extra} does`, async () => {
        const server = request(running.url);
        switch (route.extra) {
          case 'UseGuards':
            await server.get(url(route, 3)).expect(403);
            expect(attempts.of(route.path)).toBe(0);
            await server
              .get(url(route, 3))
              .set('x-let-in', 'yes')
              .expect(200, { route: route.path, id: 3, attempt: 2, boundToController: true });
            break;
          case 'UsePipes':
            await server
              .get(url(route, 3))
              .expect(200, { route: route.path, id: 33, attempt: 2, boundToController: true });
            break;
          case 'HttpCode':
            await server
              .get(url(route, 3))
              .expect(202, { route: route.path, id: 3, attempt: 2, boundToController: true });
            break;
          case 'SetMetadata':
            await server.get(url(route, 3)).expect(403);
            expect(attempts.of(route.path)).toBe(0);
            await server
              .get(url(route, 3))
              .set('x-role', 'admin')
              .expect(200, { route: route.path, id: 3, attempt: 2, boundToController: true });
            break;
          case 'Header': {
            const answer = await server
              .get(url(route, 3))
              .expect(200, { route: route.path, id: 3, attempt: 2, boundToController: true });
            expect(answer.headers['x-extra']).toBe('kept');
            break;
          }
          default:
            throw new Error(`no check for ${String(route.extra)}`);
        }
      });
    },
  );
});
