'use strict';

/** Creates the first super admin (so editors can log in without the registration screen). */
async function ensureAdminUser(strapi, { email, password }) {
  const users = strapi.service('admin::user');
  if (await users.exists()) return { created: false };
  await users.createFirstAdmin({ firstname: 'Pilot', lastname: 'Editor', email, password });
  return { created: true };
}

module.exports = { ensureAdminUser };
