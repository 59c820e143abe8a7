import { type AggregatePart, type AggregateResponse, ApiError, aggregateParts } from '@pilot/contracts';

export type PartLoader = (signal: AbortSignal) => Promise<unknown>;

class PartTimeoutError extends Error {
  constructor(part: string, ms: number) {
    super(`${part} did not answer within ${ms} ms`);
    this.name = 'PartTimeoutError';
  }
}

/**
 * Runs one part with its own deadline. The signal aborts the part's I/O (fetch) at the
 * deadline; a loader that ignores it (the content store) is raced, so the answer never waits.
 */
export async function withDeadline(part: string, loader: PartLoader, ms: number): Promise<unknown> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new PartTimeoutError(part, ms);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([loader(controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface FanOutResult {
  body: AggregateResponse;
  failures: Partial<Record<AggregatePart, unknown>>;
}

/**
 * All three parts concurrently, each with `timeoutMs`. A failed or late part is null and named
 * in meta.missing; when every part failed there is nothing to answer with, so it is an error
 * (504 if they all timed out, else 502), like legacy's.
 */
export async function fanOut(
  loaders: Record<AggregatePart, PartLoader>,
  timeoutMs: number,
): Promise<FanOutResult> {
  const settled = await Promise.allSettled(
    aggregateParts.map((part) => withDeadline(part, loaders[part], timeoutMs)),
  );
  const data: Record<AggregatePart, unknown> = { articles: null, weather: null, quote: null };
  const missing: AggregatePart[] = [];
  const failures: FanOutResult['failures'] = {};
  settled.forEach((result, index) => {
    const part = aggregateParts[index] as AggregatePart;
    if (result.status === 'fulfilled') data[part] = result.value;
    else {
      missing.push(part);
      failures[part] = result.reason;
    }
  });
  if (missing.length === aggregateParts.length) {
    const allTimedOut = Object.values(failures).every((reason) => reason instanceof PartTimeoutError);
    throw new ApiError(allTimedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_FAILED', {
      details: { missing },
    });
  }
  return {
    body: {
      data: data as AggregateResponse['data'],
      meta: { partial: missing.length > 0, missing },
    },
    failures,
  };
}

/** GETs JSON from an upstream; a non-2xx or non-JSON answer is a failure of that part. */
export async function fetchJson(
  fetchImpl: typeof fetch,
  url: string,
  signal: AbortSignal,
  requestId: string,
): Promise<unknown> {
  const response = await fetchImpl(url, {
    signal,
    headers: { accept: 'application/json', 'x-request-id': requestId },
  });
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    throw new Error(`${url} answered ${response.status}`);
  }
  return response.json();
}
