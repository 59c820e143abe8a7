import { describe, expect, it } from 'vitest';
import { sumCounter } from '../src/metrics.ts';

const text = `# HELP strapi_upstream_requests_total Requests sent to Strapi
# TYPE strapi_upstream_requests_total counter
strapi_upstream_requests_total{op="find",status="200"} 12
strapi_upstream_requests_total{op="findOne",status="200"} 3
strapi_upstream_requests_total_created{op="find"} 1.7e9
http_requests_total{route="/articles"} 99
`;

describe('reading Prometheus counters', () => {
  it('sums a counter across label sets, with or without _total', () => {
    expect(sumCounter(text, 'strapi_upstream_requests_total')).toBe(15);
    expect(sumCounter(text, 'strapi_upstream_requests')).toBe(15);
    expect(sumCounter(text, 'http_requests_total')).toBe(99);
  });

  it('counts a declared counter without samples as 0', () => {
    const empty = '# HELP strapi_upstream_requests_total x\n# TYPE strapi_upstream_requests_total counter\n';
    expect(sumCounter(empty, 'strapi_upstream_requests_total')).toBe(0);
  });

  it('returns null when the counter is absent', () => {
    expect(sumCounter(text, 'nope_total')).toBeNull();
    expect(sumCounter('', 'strapi_upstream_requests_total')).toBeNull();
  });
});
