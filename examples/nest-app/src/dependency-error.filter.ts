import { BadGatewayException, Catch, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { AxiosError } from 'axios';

/**
 * A dependency that answered with an error (or could not be reached), once the retries are spent:
 * 502 Bad Gateway. Nest would answer 500 for an AxiosError; the body names no internal service.
 */
@Catch(AxiosError)
export class DependencyErrorFilter extends BaseExceptionFilter {
  override catch(error: AxiosError, host: ArgumentsHost): void {
    const status = error.response?.status;
    const message =
      status === undefined
        ? 'A service this request depends on could not be reached.'
        : `A service this request depends on answered ${status}.`;
    super.catch(new BadGatewayException(message), host);
  }
}
