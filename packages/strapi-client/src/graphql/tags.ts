import { docTag, typeTag } from '../tags.ts';
import type { RootField } from './document.ts';

/**
 * How Strapi 5 names things in GraphQL, from the content type's `__typename` (PascalCase of the
 * singular name, e.g. `BlogPost`) and plural API id (e.g. `blog-posts`): the root query fields
 * are `blogPost` (one), `blogPosts` (list) and `blogPosts_connection` (list with pageInfo), the
 * mutations `createBlogPost`, `updateBlogPost`, `deleteBlogPost`.
 */
export interface TypeResolver {
  /** `__typename` → plural API id. */
  ofTypename(typename: string): string | undefined;
  /** Root field name → plural API id of what it returns. */
  ofRootField(name: string): string | undefined;
}

const camel = (plural: string) => plural.replace(/[-_]+([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1);

export function createTypeResolver(types: Readonly<Record<string, string>>): TypeResolver {
  const byTypename = new Map(Object.entries(types));
  const byRootField = new Map<string, string>();
  for (const [typename, plural] of byTypename) {
    const list = camel(plural);
    byRootField.set(lowerFirst(typename), plural);
    byRootField.set(list, plural);
    byRootField.set(`${list}_connection`, plural);
    for (const verb of ['create', 'update', 'delete']) byRootField.set(`${verb}${typename}`, plural);
  }
  return {
    ofTypename: (typename) => byTypename.get(typename),
    ofRootField: (name) => byRootField.get(name),
  };
}

export interface GraphQLTagOptions {
  /**
   * `true` (default): `type:<plural>` of every root field and of every document type in the
   * answer (lists anywhere in it change when a document is created or published).
   * `'if-empty'`: only for a root field that returned no document (a lookup that found nothing).
   * `false`: none.
   */
  typeTag?: boolean | 'if-empty';
  /** `doc:<plural>:<documentId>` for every document in the answer, at any depth. Default true. */
  docTags?: boolean;
}

export interface GraphQLTagPlan {
  tags: string[];
  /**
   * What kept the answer from being tagged completely: `__typename`s of documents (objects with
   * a `documentId`) that the types map does not name, and root fields that returned no document
   * and whose type is unknown. Non-empty: the answer must not be cached.
   */
  untaggable: string[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

/** Walks `value` (objects and arrays, iteratively) and reports every document-shaped object. */
function forEachDocument(
  value: unknown,
  visit: (typename: string | undefined, documentId: string | undefined) => void,
): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (Array.isArray(item)) {
      for (const child of item) if (isRecord(child)) stack.push(child);
      continue;
    }
    if (!isRecord(item)) continue;
    const typename = typeof item.__typename === 'string' ? item.__typename : undefined;
    const documentId = typeof item.documentId === 'string' ? item.documentId : undefined;
    visit(typename, documentId);
    for (const key of Object.keys(item)) {
      const child = item[key];
      if (isRecord(child)) stack.push(child);
    }
  }
}

/**
 * The cache tags of a GraphQL answer, derived from what it returned: every object with a
 * `__typename` the types map names is a document of that type (its `documentId` gives the doc
 * tag), and each root field is a query over the type its name says. A Strapi webhook for a
 * document then drops exactly the GraphQL answers that contained it, or that listed its type.
 */
export function graphqlTags(
  data: unknown,
  rootFields: readonly RootField[],
  resolver: TypeResolver,
  options: GraphQLTagOptions = {},
): GraphQLTagPlan {
  const typeMode = options.typeTag ?? true;
  const wantDocs = options.docTags !== false;
  const tags = new Set<string>();
  const untaggable = new Set<string>();
  const record = isRecord(data) ? data : {};

  for (const field of rootFields) {
    let documents = 0;
    forEachDocument(record[field.responseKey], (typename, documentId) => {
      if (typename === undefined) return;
      const plural = resolver.ofTypename(typename);
      if (plural === undefined) {
        if (documentId !== undefined) untaggable.add(typename);
        return;
      }
      documents++;
      if (wantDocs && documentId !== undefined) tags.add(docTag(plural, documentId));
      if (typeMode === true) tags.add(typeTag(plural));
    });
    const rootType = resolver.ofRootField(field.name);
    const empty = documents === 0;
    if (rootType !== undefined) {
      if (typeMode === true || (typeMode === 'if-empty' && empty)) tags.add(typeTag(rootType));
    } else if (empty && typeMode !== false) {
      // Nothing in the answer says which type a creation would have to invalidate.
      untaggable.add(`root field ${field.name}`);
    }
  }
  return { tags: [...tags], untaggable: [...untaggable] };
}
