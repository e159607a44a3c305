// What the README's blocks use of @nestjs/config (not installed here), with the signatures of
// @nestjs/config 4 (lib/config.service.ts, lib/config.module.ts): `get` returns the value as
// stored, so an environment variable is a string whatever the default's type.
import type { DynamicModule } from '@nestjs/common';

type NoInferType<T> = [T][T extends any ? 0 : never];

export declare class ConfigService<K = Record<string | symbol, unknown>> {
  get<T = any>(propertyPath: keyof K): T | undefined;
  get<T = any>(propertyPath: keyof K, defaultValue: NoInferType<T>): T;
  getOrThrow<T = any>(propertyPath: keyof K): Exclude<T, undefined>;
  getOrThrow<T = any>(propertyPath: keyof K, defaultValue: NoInferType<T>): Exclude<T, undefined>;
}

export declare class ConfigModule {
  static forRoot(options?: Record<string, unknown>): Promise<DynamicModule>;
}
