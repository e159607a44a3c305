import { Injectable, Module } from '@nestjs/common';
import { Retryable } from 'steadfast';

export const bodyRuns = { count: 0 };

@Injectable()
export class Payments {
  @Retryable(3, 10, 100)
  async charge(amountCents: number): Promise<string> {
    bodyRuns.count++;
    return `charged ${amountCents}`;
  }
}

@Module({ providers: [Payments] })
export class UnmarkedModule {}
