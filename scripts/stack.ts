// `./pilot start` / `pnpm start`: the whole stack on its embedded defaults (ports from the
// environment when set), one combined log, the URLs to try once everything answers. Ctrl-C
// stops all. The starter itself is `startStack()` in ./stack/start.ts (re-exported here).
import { formatDuration } from './lib/progress.ts';
import { type RunningStack, startStack } from './stack/start.ts';

export {
  DEFAULT_PORTS,
  type PartName,
  type RunningStack,
  type StackOptions,
  type StackPorts,
  type StackUrls,
  startStack,
} from './stack/start.ts';

/** The first answer of GET /articles through the gateway: proof the whole chain works. */
async function firstArticles(gateway: string, timeoutMs = 60_000): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  let status = 0;
  while (Date.now() - started < timeoutMs) {
    try {
      const res = await fetch(`${gateway}/articles?pageSize=1`, { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      status = res.status;
      if (status < 500) break;
    } catch {
      // gateway still warming up
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return { status, ms: Date.now() - started };
}

function tryList(stack: RunningStack): string {
  const { urls } = stack;
  const rows: Array<[string, string]> = [
    [`curl '${urls.gateway}/articles?pageSize=3'`, 'articles through the gateway'],
    [`curl -i ${urls.gateway}/articles/does-not-exist`, 'a 404 in the shared error envelope'],
    [
      `${urls.gatewayAdmin}/admin/ui`,
      'migration control page (token: local-admin-token unless GATEWAY_ADMIN_TOKEN)',
    ],
    [`${urls.modern}/docs`, "modern's OpenAPI UI"],
  ];
  if (stack.cmsAdmin)
    rows.push([
      `${urls.cms}/admin`,
      'Strapi admin (local defaults: admin@pilot.local / Local-admin-password-1)',
    ]);
  const width = Math.max(...rows.map(([what]) => what.length));
  return rows.map(([what, why]) => `  ${what.padEnd(width)}  ${why}`).join('\n');
}

if (import.meta.main) {
  const started = Date.now();
  let stack: RunningStack;
  try {
    stack = await startStack();
  } catch (error) {
    console.error(`\nThe stack did not start: ${(error as Error).message}`);
    process.exit(1);
  }
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  const articles = await firstArticles(stack.urls.gateway);
  const check =
    articles.status > 0 && articles.status < 500
      ? `GET /articles through the gateway answered ${articles.status}`
      : `GET /articles through the gateway does not answer yet (last status ${articles.status || 'none'}): see the log above`;
  console.log(
    `\nStack is up in ${formatDuration(Date.now() - started)}; ${check}. Try:\n${tryList(stack)}\n` +
      'Services that die are restarted (with backoff). Ctrl-C stops everything.\n',
  );
}
