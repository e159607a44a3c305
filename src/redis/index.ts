export { RedisStore, type RedisStoreOptions } from '../stores/redis-store';
export type { IoredisClient, NodeRedisClient } from '../stores/redis-connection';
