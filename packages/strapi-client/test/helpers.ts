import { z } from 'zod';
import {
  createStrapiClient,
  type StrapiClient,
  type StrapiClientEvents,
  type StrapiClientOptions,
  type StrapiEventName,
} from '../src/index.ts';
import type { FakeStrapi } from '../src/testing/index.ts';

export const articleSchema = z.object({
  documentId: z.string(),
  title: z.string(),
  slug: z.string(),
});
export type Article = z.infer<typeof articleSchema>;

export const TOKEN = 'super-secret-token-value-123';

export const seedArticles = (n = 3) =>
  Array.from({ length: n }, (_, i) => ({
    documentId: `doc${i + 1}`,
    title: `Article ${i + 1}`,
    slug: `article-${i + 1}`,
  }));

/** A manual clock for cache freshness: tests move time, they don't wait for it. */
export function manualClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    advance(ms: number) {
      now += ms;
    },
  };
}

const clients: StrapiClient[] = [];

export function clientFor(fake: FakeStrapi, options: Partial<StrapiClientOptions> = {}): StrapiClient {
  const client = createStrapiClient({
    baseUrl: fake.url,
    token: TOKEN,
    timeoutMs: 2_000,
    retry: { maxAttempts: 0 },
    ...options,
  });
  clients.push(client);
  return client;
}

export async function closeClients(): Promise<void> {
  await Promise.all(clients.splice(0).map((client) => client.close()));
}

/** Resolves with the next event of `name` matching `predicate`. */
export function nextEvent<K extends StrapiEventName>(
  client: StrapiClient,
  name: K,
  predicate: (event: StrapiClientEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<StrapiClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching ${name} event within ${timeoutMs}ms`));
    }, timeoutMs);
    const off = client.on(name, (event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      off();
      resolve(event);
    });
  });
}
