import {
  ForbiddenException,
  Injectable,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';

/** Lets only requests from this machine through (the warehouse switch is a demo control, not an API). */
@Injectable()
export class LocalOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const address =
      context.switchToHttp().getRequest<{ socket: { remoteAddress?: string } }>().socket
        .remoteAddress ?? '';
    if (address === '::1' || address === '127.0.0.1' || address === '::ffff:127.0.0.1') return true;
    throw new ForbiddenException('the warehouse switch answers local requests only');
  }
}
