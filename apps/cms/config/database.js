'use strict';

const path = require('node:path');
const { str, int } = require('../src/lib/settings.js');

/**
 * SQLite by default (a file under apps/cms/.tmp, or DATABASE_FILENAME); Postgres with
 * DATABASE_CLIENT=postgres and DATABASE_URL (or the DATABASE_HOST/PORT/NAME/USERNAME/PASSWORD parts).
 */
module.exports = () => {
  const client = str('DATABASE_CLIENT') ?? 'sqlite';

  if (client === 'sqlite') {
    const filename = str('DATABASE_FILENAME') ?? path.join('.tmp', 'data.db');
    return {
      connection: {
        client: 'sqlite',
        connection: { filename: path.resolve(__dirname, '..', filename) },
        useNullAsDefault: true,
        pool: {
          // WAL + synchronous=NORMAL: readers never wait for the writer, and a commit is not an
          // fsync (still durable across a process crash; an OS crash may lose the last commits).
          afterCreate(conn, done) {
            try {
              conn.pragma('journal_mode = WAL');
              conn.pragma('synchronous = NORMAL');
              done(null, conn);
            } catch (error) {
              done(error, conn);
            }
          },
        },
      },
    };
  }

  if (client === 'postgres') {
    const ssl =
      str('DATABASE_SSL') === 'true'
        ? { rejectUnauthorized: str('DATABASE_SSL_REJECT_UNAUTHORIZED') !== 'false' }
        : false;
    const url = str('DATABASE_URL');
    return {
      connection: {
        client: 'postgres',
        connection: url
          ? { connectionString: url, ssl, schema: str('DATABASE_SCHEMA') ?? 'public' }
          : {
              host: str('DATABASE_HOST') ?? '127.0.0.1',
              port: int('DATABASE_PORT', 5432),
              database: str('DATABASE_NAME') ?? 'strapi',
              user: str('DATABASE_USERNAME') ?? 'strapi',
              password: str('DATABASE_PASSWORD') ?? 'strapi',
              ssl,
              schema: str('DATABASE_SCHEMA') ?? 'public',
            },
        pool: { min: int('DATABASE_POOL_MIN', 2), max: int('DATABASE_POOL_MAX', 10) },
      },
    };
  }

  throw new Error(`[cms] DATABASE_CLIENT must be "sqlite" or "postgres", got "${client}"`);
};
