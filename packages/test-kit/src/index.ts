export { deleteByPrefix, TEST_REDIS_URL, type TestRedis, useTestRedis } from './redis.ts';
export { startDelayedUpstream, startTestServer, type TestHandler, type TestServer } from './http.ts';
export { chromiumPath } from './chromium.ts';
export { type RawConnection, type RawResponse, rawConnection, rawExchange } from './raw-http.ts';
