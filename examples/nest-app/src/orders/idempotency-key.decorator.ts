import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;

/** The request's `Idempotency-Key` header; a request without a usable one is a 400. */
export const IdempotencyKey = createParamDecorator(
  (_data: unknown, context: ExecutionContext): string => {
    const key = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers[
      'idempotency-key'
    ];
    if (typeof key !== 'string' || !KEY_FORMAT.test(key)) {
      throw new BadRequestException(
        'an Idempotency-Key header (1 to 255 visible ASCII characters) is required',
      );
    }
    return key;
  },
);
