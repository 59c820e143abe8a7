import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./fixtures/off-child.ts', import.meta.url));

describe('tracing off (the default)', () => {
  it('loads no SDK, records no span and writes no header', async () => {
    const { stdout } = await run(process.execPath, [child], { env: { PATH: process.env.PATH ?? '' } });
    const seen = JSON.parse(stdout) as {
      enabled: boolean;
      tracing: boolean;
      recording: boolean;
      exemplar: unknown;
      headers: Record<string, string>;
      resolved: string[];
    };
    expect(seen.enabled).toBe(false);
    expect(seen.tracing).toBe(false);
    expect(seen.recording).toBe(false);
    expect(seen.exemplar).toBeNull();
    // the no-op propagator neither reads nor writes: the caller's header stays as it came
    expect(seen.headers.traceparent).toBe('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    // the hooks saw the package and the API load (so they work), and nothing of the SDK
    expect(seen.resolved.some((url) => url.includes('/@opentelemetry/api/'))).toBe(true);
    expect(seen.resolved.some((url) => url.endsWith('/src/index.ts'))).toBe(true);
    const sdk = seen.resolved.filter((url) =>
      /@opentelemetry\/(sdk-|exporter-|instrumentation|context-async-hooks|resources|core)|\/src\/sdk\.ts$/.test(
        url,
      ),
    );
    expect(sdk).toEqual([]);
  });
});
