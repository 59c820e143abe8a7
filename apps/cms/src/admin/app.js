// Admin panel customisation (bundled by `pnpm --filter @pilot/cms build`).
// Tutorials and release notifications fetch from the internet: off.
export default {
  config: {
    tutorials: false,
    notifications: { releases: false },
  },
  bootstrap() {},
};
