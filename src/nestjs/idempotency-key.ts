import { BadRequestException, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { OptionChecker } from '../runtime/validation';

/** The options of `IdempotencyKey()`. */
export interface IdempotencyKeyOptions {
  /** the request header that carries the key (default 'Idempotency-Key', matched case-insensitively) */
  readonly header?: string;
  /** false: a request without the header is let through, and the parameter is undefined (default true) */
  readonly required?: boolean;
  /** the longest key accepted, in characters (default 255) */
  readonly maxLength?: number;
}

interface KeyRule {
  readonly header: string;
  readonly required: boolean;
  readonly maxLength: number;
}

const KEYS = ['header', 'required', 'maxLength'] as const;

/** The code in the 400 body, the same as IdempotencyKeyError's. */
const CODE = 'STEADFAST_IDEMPOTENCY_KEY';

function refuse(message: string): never {
  throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message, code: CODE });
}

const keyOfRequest = createParamDecorator(
  (rule: KeyRule, context: ExecutionContext): string | undefined => {
    const request: unknown =
      context.getType() === 'http' ? context.switchToHttp().getRequest() : undefined;
    const headers = (
      request as { headers?: Record<string, string | string[] | undefined> } | undefined
    )?.headers;
    let value = headers?.[rule.header];
    if (Array.isArray(value)) value = value[0];
    if (value === undefined) {
      if (!rule.required) return undefined;
      refuse(
        `The ${rule.header} header is required: send a key that names this operation, the same for every retry of it.`,
      );
    }
    const key = value.trim();
    if (key === '') refuse(`The ${rule.header} header is empty.`);
    if (key.length > rule.maxLength)
      refuse(`The ${rule.header} header is longer than ${rule.maxLength} characters.`);
    return key;
  },
);

/**
 * A handler parameter that is the request's idempotency key, read from the `Idempotency-Key`
 * header. A request without it, or with an empty or over-long one, is answered 400 (code
 * `STEADFAST_IDEMPOTENCY_KEY`) before the handler runs, unless `required: false`.
 *
 * @example place(@IdempotencyKey() key: string, @Body() order: PlaceOrder)
 */
export function IdempotencyKey(options?: IdempotencyKeyOptions): ParameterDecorator {
  const checker: OptionChecker = new OptionChecker('IdempotencyKey()', undefined);
  const given = options === undefined ? {} : checker.object('', options, KEYS);
  const header =
    given.header === undefined
      ? 'idempotency-key'
      : checker.text('header', given.header).toLowerCase();
  if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(header))
    checker.fail('header', 'must be an HTTP header name', given.header);
  const required: unknown = given.required === undefined ? true : given.required;
  if (typeof required !== 'boolean') checker.fail('required', 'must be true or false', required);
  const maxLength =
    given.maxLength === undefined ? 255 : checker.integer('maxLength', given.maxLength, 1);
  return keyOfRequest({ header, required, maxLength });
}
