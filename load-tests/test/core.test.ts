import { describe, expect, it } from 'vitest';
import {
  applyCaptures,
  judgeResponse,
  parseDuration,
  renderStep,
  renderTemplate,
  resolveVars,
  type Step,
  type TemplateContext,
  uuidv4,
} from '../k6/lib/core.js';

const ctx = (over: Partial<TemplateContext> = {}): TemplateContext => ({
  vars: { slug: 'hello', n: 3 },
  captures: {},
  vu: 7,
  iter: 12,
  ...over,
});

describe('templates shared by k6 and the Node runner', () => {
  it('renders builtins, vars, captures and cycles', () => {
    expect(renderTemplate('/articles/{{slug}}?n={{n}}', ctx())).toBe('/articles/hello?n=3');
    expect(renderTemplate('{{vu}}-{{iter}}', ctx())).toBe('7-12');
    expect(renderTemplate('page={{cycle:1,2,3,4,5}}', ctx())).toBe('page=3');
    expect(renderTemplate('{{ token }}', ctx({ captures: { token: 'abc' } }))).toBe('abc');
    expect(renderTemplate('{{slug}}', ctx({ captures: { slug: 'captured' } }))).toBe('captured');
    expect(() => renderTemplate('{{nope}}', ctx())).toThrow(/unknown template variable \{\{nope\}\}/);
  });

  it('gives a fresh RFC 4122 v4 uuid per use', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = uuidv4();
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
    const a = renderTemplate('{{uuid}}', ctx());
    expect(a).not.toBe(renderTemplate('{{uuid}}', ctx()));
  });

  it('renders a step: JSON body, headers, timeout, and a short SSE hold outside full runs', () => {
    const step: Step = {
      name: 'subscribe',
      method: 'POST',
      path: '/subscribers',
      headers: { authorization: 'Bearer {{token}}' },
      body: { email: 'a-{{vu}}@example.com', tags: ['{{slug}}'] },
      expect: { status: [201] },
    };
    const req = renderStep(step, ctx({ captures: { token: 't' } }), '10s');
    expect(req).toEqual({
      method: 'POST',
      path: '/subscribers',
      headers: { authorization: 'Bearer t' },
      body: '{"email":"a-7@example.com","tags":["hello"]}',
      timeoutMs: 10_000,
      holdMs: 0,
    });
    const sse: Step = {
      name: 's',
      method: 'GET',
      path: '/events',
      sse: { hold: '3s' },
      expect: { status: [200] },
    };
    expect(renderStep(sse, ctx(), '10s', 'full').holdMs).toBe(3000);
    expect(renderStep(sse, ctx(), '10s', 'smoke').holdMs).toBe(1000);
  });

  it('lets the environment override catalogue vars (VAR_<name>)', () => {
    expect(resolveVars({ slug: 'a', n: 1 }, { VAR_slug: 'b', VAR_n: '' })).toEqual({ slug: 'b', n: 1 });
  });

  it('parses k6 durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('3s')).toBe(3000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2')).toBe(2000);
    expect(() => parseDuration('3 s')).toThrow(/invalid duration/);
    expect(() => parseDuration('s')).toThrow(/invalid duration/);
  });
});

describe('response judgement and captures', () => {
  const step: Step = {
    name: 'login',
    method: 'POST',
    path: '/auth/login',
    expect: { status: [200], contentType: 'application/json' },
    capture: { refreshToken: 'tokens.refresh' },
  };

  it('judges status and content type', () => {
    expect(judgeResponse(step, 200, 'application/json; charset=utf-8')).toBeNull();
    expect(judgeResponse(step, 500, 'application/json')).toBe('status 500');
    expect(judgeResponse(step, 200, 'text/html')).toBe('content-type text/html');
    expect(judgeResponse(step, 200, undefined)).toBe('content-type (none)');
  });

  it('captures dotted paths and reports what is missing', () => {
    const c = ctx();
    expect(applyCaptures(step, '{"tokens":{"refresh":"r1"}}', c)).toBeNull();
    expect(c.captures.refreshToken).toBe('r1');
    expect(applyCaptures(step, '{"tokens":{}}', c)).toMatch(/"tokens.refresh" missing/);
    expect(applyCaptures(step, '<html>', c)).toMatch(/not JSON/);
  });
});
