// Mirrored writes through the gateway, with the REAL Strapi, real Redis and both real apps: legacy
// serves POST /subscribers and POST /auth/refresh, modern gets a mirrored copy of each (the route
// table says mirrorWrites: true) marked x-pilot-shadow: 1. The mirror must write nothing: Strapi
// holds one entry per subscription, and the refresh-token family in the shared Redis is neither
// rotated nor revoked by the mirror, so the client's next refresh still works.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SubscriberResponse, TokenPair } from '@pilot/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type System, startSystem } from './system.ts';

const ADMIN = { authorization: 'Bearer e2e-admin-token' };
const JSON_HEADERS = { 'content-type': 'application/json' };

const TABLE = `
backends:
  legacy: { url: http://127.0.0.1:3001, urlEnv: LEGACY_URL, healthCheck: { enabled: false } }
  modern: { url: http://127.0.0.1:3002, urlEnv: MODERN_URL, healthCheck: { enabled: false } }
routes:
  - id: subscribers
    path: /subscribers
    backend: legacy
    shadow:
      backend: modern
      methods: [POST]
      mirrorWrites: true
      # a mirror that overtakes the served write answers a fresh id (see @pilot/content)
      ignore: [data.id, data.createdAt]
  - id: refresh
    path: /auth/refresh
    backend: legacy
    shadow:
      backend: modern
      methods: [POST]
      mirrorWrites: true
      ignore: [accessToken, refreshToken]
  - id: webhooks
    path: /webhooks/*
    backend: modern
  - id: default
    path: /*
    backend: legacy
`;

let system: System;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pilot-e2e-shadow-'));
  const routesFile = join(dir, 'routes.yaml');
  await writeFile(routesFile, TABLE);
  system = await startSystem({ routesFile });
});
afterAll(async () => {
  await system?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface ShadowNumbers {
  id: string;
  mirrored: number;
  compared: number;
  matched: number;
  mismatched: number;
  notCompared: number;
}

async function shadowOf(route: string): Promise<ShadowNumbers> {
  const res = await fetch(`${system.adminUrl}/admin/shadow`, { headers: ADMIN });
  const body = (await res.json()) as { routes: ShadowNumbers[] };
  return body.routes.find((r) => r.id === route)!;
}

/** Waits until every mirror of the route has an outcome (compared or not). */
async function settled(route: string, mirrored: number): Promise<ShadowNumbers> {
  await expect
    .poll(
      async () => {
        const s = await shadowOf(route);
        return s.mirrored === mirrored && s.compared + s.notCompared === mirrored;
      },
      { timeout: 15_000 },
    )
    .toBe(true);
  return shadowOf(route);
}

async function strapiSubscribers(email: string): Promise<Array<{ documentId: string; source: string }>> {
  const url = `${system.cms.url}/api/subscribers?filters[email][$eqi]=${encodeURIComponent(email)}&fields[0]=source`;
  const res = await fetch(url, { headers: { authorization: `Bearer ${system.cms.writeToken}` } });
  return ((await res.json()) as { data: Array<{ documentId: string; source: string }> }).data;
}

const post = (path: string, body: unknown) =>
  fetch(`${system.gatewayUrl}${path}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });

describe('mirrored writes have no side effects (real Strapi, real Redis, both apps behind the gateway)', () => {
  it('a mirrored POST /subscribers creates no entry in Strapi; both answers agree', async () => {
    const emails = [0, 1, 2].map((i) => `mirror-${i}-${Date.now()}@example.com`);
    for (const email of emails) {
      const res = await post('/subscribers', { email, name: 'Mirror' });
      expect(res.status).toBe(201);
      expect(res.headers.get('x-backend')).toBe('legacy');
      SubscriberResponse.parse(await res.json());
    }
    const s = await settled('subscribers', 3);
    expect(s).toMatchObject({ compared: 3, matched: 3, mismatched: 0 });
    for (const email of emails) {
      // exactly one entry, written by the served backend
      expect(await strapiSubscribers(email)).toEqual([expect.objectContaining({ source: 'legacy' })]);
    }
  });

  it('a duplicate is a 409 on both sides, compared as a match, still one entry', async () => {
    const email = `dup-${Date.now()}@example.com`;
    expect((await post('/subscribers', { email })).status).toBe(201);
    await settled('subscribers', 4);
    const again = await post('/subscribers', { email });
    expect(again.status).toBe(409);
    const s = await settled('subscribers', 5);
    expect(s).toMatchObject({ matched: 5, mismatched: 0 });
    expect(await strapiSubscribers(email)).toHaveLength(1);
  });

  it('a mirrored POST /auth/refresh leaves the family usable: the next refreshes still work', async () => {
    const login = await post('/auth/login', { username: 'demo', password: 'demo-password' });
    expect(login.status).toBe(200);
    let { refreshToken } = TokenPair.parse(await login.json());
    for (let i = 1; i <= 3; i++) {
      const res = await post('/auth/refresh', { refreshToken });
      expect(res.status, `refresh ${i}`).toBe(200);
      refreshToken = TokenPair.parse(await res.json()).refreshToken;
      // each mirror has finished (and done whatever it does) before the next real refresh
      await settled('refresh', i);
    }
    const s = await shadowOf('refresh');
    expect(s).toMatchObject({ compared: 3, matched: 3, mismatched: 0 });
    // the token the client holds is still the live one
    const me = await post('/auth/refresh', { refreshToken });
    expect(me.status).toBe(200);
  });
});
