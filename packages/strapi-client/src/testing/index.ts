export {
  type FakeDocument,
  type FakeFault,
  type FakeStrapi,
  type FakeStrapiOptions,
  type FakeStrapiGraphQLRequest,
  type FakeStrapiRequest,
  startFakeStrapi,
} from './fake-strapi.ts';
export { type ThrowawayRedis, startThrowawayRedis } from './throwaway-redis.ts';
export {
  type FakeGraphQL,
  type FakeGraphQLAnswer,
  type FakeGraphQLOptions,
  type FakeGraphQLRequest,
  type FakeGraphQLResponder,
  startFakeGraphQL,
} from './fake-graphql.ts';
