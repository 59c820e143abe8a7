import SwaggerParser from '@apidevtools/swagger-parser';
import { routes } from '@pilot/contracts';
import type { FastifyInstance } from 'fastify';
import type { OpenAPIV3_1 } from 'openapi-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { testDeps } from './helpers.ts';

const modernRoutes = Object.entries(routes).filter(([, r]) =>
  (r.services as readonly string[]).includes('modern'),
);
const openapiPath = (path: string) => path.replace(/:([A-Za-z]+)/g, '{$1}');

describe('GET /openapi.json and GET /docs', () => {
  let app: FastifyInstance;
  let doc: OpenAPIV3_1.Document;

  beforeAll(async () => {
    app = createApp(testDeps());
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    doc = res.json();
  });
  afterAll(async () => {
    await app.close();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy();
  });

  it('lists exactly the routes of the contracts catalogue that modern serves', () => {
    const listed = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {})
        .filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const expected = modernRoutes.map(([, r]) => `${r.method} ${openapiPath(r.path)}`);
    expect(listed.sort()).toEqual(expected.sort());
  });

  it.each(modernRoutes)('documents %s with its request and response schemas', (_name, route) => {
    const operation = doc.paths?.[openapiPath(route.path)]?.[
      route.method.toLowerCase() as 'get' | 'post'
    ] as OpenAPIV3_1.OperationObject;
    expect(operation.summary).toBe(route.summary);
    const params = (operation.parameters ?? []) as OpenAPIV3_1.ParameterObject[];
    if ('params' in route) {
      const shape = Object.keys((route.params as { shape: object }).shape);
      expect(params.filter((p) => p.in === 'path').map((p) => p.name)).toEqual(shape);
    }
    if ('query' in route) {
      const shape = Object.keys((route.query as { shape: object }).shape);
      expect(
        params
          .filter((p) => p.in === 'query')
          .map((p) => p.name)
          .sort(),
      ).toEqual(shape.sort());
    }
    if ('body' in route) {
      const body = operation.requestBody as OpenAPIV3_1.RequestBodyObject;
      expect(body.content['application/json']?.schema).toMatchObject({ type: 'object' });
    }
    const statuses = Object.keys(operation.responses ?? {}).map(Number);
    const success = Object.keys(route.responses).map(Number);
    expect(statuses).toEqual(expect.arrayContaining([...success, ...route.errors]));
    for (const status of [...success, ...route.errors]) {
      const response = operation.responses?.[status] as OpenAPIV3_1.ResponseObject;
      const content = response.content ?? {};
      const schema = Object.values(content)[0]?.schema;
      expect(schema, `${route.method} ${route.path} ${status}`).toBeTruthy();
    }
    if (route.path === '/events') {
      const ok = operation.responses?.[200] as OpenAPIV3_1.ResponseObject;
      expect(Object.keys(ok.content ?? {})).toEqual(['text/event-stream']);
    }
  });

  it('documents errors as the one envelope and /me as bearer-protected', () => {
    const me = doc.paths?.['/me']?.get as OpenAPIV3_1.OperationObject;
    expect(me.security).toEqual([{ bearerAuth: [] }]);
    const response = doc.paths?.['/articles/{slug}']?.get?.responses?.[404] as OpenAPIV3_1.ResponseObject;
    const notFound = response.content?.['application/json']?.schema as OpenAPIV3_1.SchemaObject;
    expect(notFound.required).toEqual(['error']);
  });

  it('serves the interactive docs with local assets only (no CDN)', async () => {
    const page = await app.inject('/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) {
      expect(asset, asset).not.toMatch(/^(https?:)?\/\//);
      const url = new URL(asset, 'http://localhost/docs/').pathname;
      const res = await app.inject(url);
      expect(res.statusCode, url).toBe(200);
    }
    const init = await app.inject('/docs/static/swagger-initializer.js');
    expect(init.statusCode).toBe(200);
    // the UI loads the spec from this server, not from a remote URL
    expect(init.body).toContain("url: resolveUrl('./json')");
    expect((await app.inject('/docs/json')).json()).toEqual(doc);
  });
});
