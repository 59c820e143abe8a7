// Stand-in for k6/http in the script test: synchronous, answers from k6State.respond.
import { type SentRequest, k6State } from './state.ts';

function request(method: string, url: string, body: string | null, params: Record<string, unknown> = {}) {
  const sent: SentRequest = { method, url, body, params };
  k6State.requests.push(sent);
  const res = k6State.respond(sent);
  return {
    status: res.status,
    headers: res.headers ?? {},
    body: res.body ?? '',
    error_code: res.error_code ?? 0,
    timings: { duration: res.duration ?? 1, waiting: res.duration ?? 1 },
  };
}

function expectedStatuses(...statuses: number[]) {
  return { expectedStatuses: statuses };
}

function get(url: string, params: Record<string, unknown> = {}) {
  return request('GET', url, null, params);
}

export default { request, get, expectedStatuses };
