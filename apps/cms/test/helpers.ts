import type { CmsInstance } from '../testing/index.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies; tests assert them field by field.
export type Json = any;

export interface JsonResponse<T = Json> {
  status: number;
  headers: Headers;
  body: T;
}

/** One REST call against the test Strapi; the token is sent as a Bearer header when given. */
export async function api<T = Json>(
  cms: CmsInstance,
  path: string,
  init: { method?: string; token?: string | null; body?: unknown } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${cms.url}${path}`, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}
