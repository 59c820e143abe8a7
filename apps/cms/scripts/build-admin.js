'use strict';

/**
 * Builds the admin panel into apps/cms/build (what `strapi build` does), once; `pnpm start`
 * and `pnpm dev` never rebuild it.
 *
 * Why not `strapi build` itself: it looks for a tsconfig.json in this folder *and every parent*,
 * finds the monorepo's root one and then tries to compile this plain-JS project as TypeScript.
 * Calling Strapi's build function with no tsconfig is the same build minus that mistake.
 */

const path = require('node:path');

const appDir = path.resolve(__dirname, '..');
process.chdir(appDir);
process.env.STRAPI_TELEMETRY_DISABLED ??= 'true';

const strapiDir = path.dirname(require.resolve('@strapi/strapi/package.json'));
// Deep requires by absolute path: these modules are not in @strapi/strapi's exports map.
const { build } = require(path.join(strapiDir, 'dist/src/node/build.js'));
const { createLogger } = require(path.join(strapiDir, 'dist/src/cli/utils/logger.js'));

const logger = createLogger({ debug: process.argv.includes('--debug'), silent: false, timestamp: false });

build({
  logger,
  cwd: appDir,
  tsconfig: undefined,
  bundler: 'vite',
  minify: true,
  sourcemap: false,
  stats: false,
})
  .then(() => process.exit(0))
  .catch((error) => {
    console.error('[cms] admin build failed:', error);
    process.exit(1);
  });
