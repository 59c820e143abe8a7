'use strict';

const { factories } = require('@strapi/strapi');
const { errors } = require('@strapi/utils');

const UNIQUE_MESSAGE = 'This attribute must be unique';

/** Postgres (23505) / SQLite unique-index violations. */
const isUniqueViolation = (error) =>
  Boolean(error) && (error.code === '23505' || error.code === 'SQLITE_CONSTRAINT_UNIQUE');

module.exports = factories.createCoreController('api::subscriber.subscriber', () => ({
  /**
   * Strapi checks `unique` before inserting; two concurrent requests with the same email can
   * both pass that check, and then the DB index (subscribers_email_uq) stops the second. Answer
   * that one exactly like the validator does (400 ValidationError), not with a 500.
   */
  async create(ctx) {
    try {
      return await super.create(ctx);
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      strapi.log.info('[cms] concurrent duplicate subscriber stopped by the unique index: answered 400');
      const value = ctx.request.body?.data?.email;
      throw new errors.ValidationError(UNIQUE_MESSAGE, {
        errors: [{ path: ['email'], message: UNIQUE_MESSAGE, name: 'ValidationError', value }],
      });
    }
  },
}));
