import { describe, expect, it } from 'vitest';
import { encodeQuery, stableStringify } from '../src/index.ts';
import { createKeyer } from '../src/query.ts';

// Expected strings are what Strapi 5's docs show for `qs.stringify(query, { encodeValuesOnly: true })`,
// written out by hand (brackets readable, values percent-encoded, arrays indexed).
describe('encodeQuery (Strapi 5 qs bracket syntax)', () => {
  const cases: Array<[string, Parameters<typeof encodeQuery>[0], string]> = [
    ['no params', undefined, ''],
    ['empty params', {}, ''],
    ['filter $eq', { filters: { username: { $eq: 'John' } } }, 'filters[username][$eq]=John'],
    [
      'filter $in on ids',
      { filters: { id: { $in: [3, 6, 8] } } },
      'filters[id][$in][0]=3&filters[id][$in][1]=6&filters[id][$in][2]=8',
    ],
    [
      'complex $or with nested relation',
      {
        filters: {
          $or: [{ date: { $eq: '2020-01-01' } }, { date: { $eq: '2020-01-02' } }],
          author: { name: { $eq: 'Kai doe' } },
        },
      },
      'filters[$or][0][date][$eq]=2020-01-01&filters[$or][1][date][$eq]=2020-01-02&filters[author][name][$eq]=Kai%20doe',
    ],
    ['populate all', { populate: '*' }, 'populate=%2A'],
    ['populate list', { populate: ['author', 'cover'] }, 'populate[0]=author&populate[1]=cover'],
    [
      'populate object with fields',
      { populate: { author: { fields: ['name', 'email'] } } },
      'populate[author][fields][0]=name&populate[author][fields][1]=email',
    ],
    ['fields', { fields: ['title', 'slug'] }, 'fields[0]=title&fields[1]=slug'],
    ['sort single', { sort: 'title:asc' }, 'sort=title%3Aasc'],
    ['sort list', { sort: ['publishedAt:desc', 'title'] }, 'sort[0]=publishedAt%3Adesc&sort[1]=title'],
    [
      'page pagination',
      { pagination: { page: 2, pageSize: 10 } },
      'pagination[page]=2&pagination[pageSize]=10',
    ],
    [
      'offset pagination with count off',
      { pagination: { start: 20, limit: 10, withCount: false } },
      'pagination[start]=20&pagination[limit]=10&pagination[withCount]=false',
    ],
    ['status draft', { status: 'draft' }, 'status=draft'],
    ['locale', { locale: 'fr' }, 'locale=fr'],
    [
      'search-like $containsi with special characters',
      { filters: { title: { $containsi: 'a&b=c d' } } },
      'filters[title][$containsi]=a%26b%3Dc%20d',
    ],
    ['undefined values are dropped', { locale: undefined, status: 'published' }, 'status=published'],
  ];

  for (const [name, params, expected] of cases) {
    it(name, () => {
      expect(encodeQuery(params)).toBe(expected);
    });
  }

  it('combines everything in one request', () => {
    expect(
      encodeQuery({
        filters: { slug: { $eq: 'hello-world' } },
        populate: ['author'],
        fields: ['title'],
        sort: ['title:asc'],
        pagination: { page: 1, pageSize: 1 },
        status: 'published',
        locale: 'en',
      }),
    ).toBe(
      'filters[slug][$eq]=hello-world&populate[0]=author&fields[0]=title&sort[0]=title%3Aasc' +
        '&pagination[page]=1&pagination[pageSize]=1&status=published&locale=en',
    );
  });
});

describe('stableStringify (cache keys)', () => {
  it('ignores object key order at every depth', () => {
    const a = { pagination: { page: 1, pageSize: 10 }, filters: { slug: { $eq: 'x' }, author: { id: 1 } } };
    const b = { filters: { author: { id: 1 }, slug: { $eq: 'x' } }, pagination: { pageSize: 10, page: 1 } };
    expect(stableStringify(a)).toBe(stableStringify(b));
  });

  it('keeps array order (sort and populate order matter)', () => {
    expect(stableStringify({ sort: ['a', 'b'] })).not.toBe(stableStringify({ sort: ['b', 'a'] }));
  });

  it('drops undefined properties and distinguishes types', () => {
    expect(stableStringify({ a: 1, b: undefined })).toBe(stableStringify({ a: 1 }));
    expect(stableStringify({ a: 1 })).not.toBe(stableStringify({ a: '1' }));
  });
});

describe('createKeyer (cache keys from params)', () => {
  it('gives a frozen params object the key its contents give, and deep-freezes it so it cannot drift', () => {
    const key = createKeyer('c:articles:');
    const plain = { filters: { slug: { $eq: 'one' } }, fields: ['title'] };
    const frozen = Object.freeze({ fields: ['title'], filters: { slug: { $eq: 'one' } } });
    expect(key(frozen)).toBe(key(plain));
    expect(key(frozen)).toBe(key(plain)); // second time from the identity memo
    expect(Object.isFrozen(frozen.filters.slug)).toBe(true);
    expect(Object.isFrozen(frozen.fields)).toBe(true);
    expect(() => {
      (frozen.filters.slug as { $eq: string }).$eq = 'two';
    }).toThrow(TypeError);
    expect(key(Object.freeze({ filters: { slug: { $eq: 'two' } }, fields: ['title'] }))).not.toBe(
      key(frozen),
    );
  });

  it('keys mutable params by their current contents, every time', () => {
    const key = createKeyer('');
    const params = { pagination: { page: 1 } };
    const first = key(params);
    params.pagination.page = 2;
    expect(key(params)).not.toBe(first);
    expect(Object.isFrozen(params)).toBe(false);
  });
});
