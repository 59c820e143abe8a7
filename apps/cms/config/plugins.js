'use strict';

const { int } = require('../src/lib/settings.js');

module.exports = () => ({
  /**
   * The official GraphQL plugin at POST /graphql, beside REST. Same API tokens and the same
   * content-API permissions as REST (find/findOne per content type), so the read token reads
   * over both. Limits are what keeps one query from walking the whole graph:
   * - depthLimit: deeper operations are refused at validation (HTTP 400, no resolver runs);
   *   7 fits "authors → articles → author → …" with room, while a cyclic walk is refused;
   * - defaultLimit / maxLimit: list size when a query gives none / the most it may ask (a larger
   *   `pagination.limit` or `pageSize` is refused), the same numbers as REST (config/api.js).
   * The landing page (Apollo Sandbox) only in development; never in test or production.
   */
  graphql: {
    enabled: true,
    config: {
      endpoint: '/graphql',
      shadowCRUD: true,
      depthLimit: int('CMS_GRAPHQL_DEPTH_LIMIT', 7),
      defaultLimit: 25,
      maxLimit: 100,
      landingPage: process.env.NODE_ENV === 'development',
      apolloServer: {
        // Schema introspection follows the landing page: tooling in development, off elsewhere.
        introspection: process.env.NODE_ENV === 'development',
      },
    },
  },
});
