import { createHash } from 'node:crypto';
import {
  type ASTNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  type SelectionSetNode,
  visit,
} from 'graphql';
import type { StrapiSchema } from '../schema.ts';

/** A root field of the operation: what the answer's `data` is keyed by, and the schema field asked. */
export interface RootField {
  /** Key in `data` (the alias when there is one). */
  responseKey: string;
  /** Field name in Strapi's schema, e.g. `articles`, `article`, `articles_connection`, `createArticle`. */
  name: string;
}

interface OperationBase<V, R> {
  readonly operationName: string;
  /**
   * The document sent to Strapi: parsed, `__typename` added to every selection set (tags come
   * from it), printed back in graphql-js's canonical layout (whitespace, commas and comments
   * do not change it).
   */
  readonly document: string;
  /** sha256 of `document` (16 hex chars): the cache key's name for the document. */
  readonly hash: string;
  readonly rootFields: readonly RootField[];
  /** Validates `data`; the client returns its output. */
  readonly schema: StrapiSchema<R>;
  /** Validates the variables before anything is sent (optional). */
  readonly variables: StrapiSchema<V> | undefined;
  /** `__typename` → plural API id, on top of the client's `graphql.types`. */
  readonly types: Readonly<Record<string, string>>;
}

export interface GraphQLQuery<V, R> extends OperationBase<V, R> {
  readonly kind: 'query';
}

export interface GraphQLMutation<V, R> extends OperationBase<V, R> {
  readonly kind: 'mutation';
}

export interface OperationDefinition<V, R> {
  /** One named operation (fragments allowed). Define it once, at module level. */
  document: string;
  /** Schema of the answer's `data` (zod). Objects strip `__typename` unless they declare it. */
  schema: StrapiSchema<R>;
  /** Schema of the variables; when given, variables are checked before sending and typed from it. */
  variables?: StrapiSchema<V>;
  /** `__typename` → plural API id for types this document returns, e.g. `{ Article: 'articles' }`. */
  types?: Record<string, string>;
}

const TYPENAME: FieldNode = { kind: Kind.FIELD, name: { kind: Kind.NAME, value: '__typename' } };

function hasTypename(set: SelectionSetNode): boolean {
  return set.selections.some(
    (s) => s.kind === Kind.FIELD && s.name.value === '__typename' && s.alias === undefined,
  );
}

/** Adds `__typename` to every selection set below the operation's root (as Apollo Client does). */
function addTypename(document: DocumentNode): DocumentNode {
  return visit(document, {
    SelectionSet: {
      leave(node, _key, parent) {
        const owner = parent && !Array.isArray(parent) ? (parent as ASTNode) : undefined;
        if (owner?.kind === Kind.OPERATION_DEFINITION || hasTypename(node)) return undefined;
        return { ...node, selections: [...node.selections, TYPENAME] };
      },
    },
  });
}

function rootFieldsOf(
  operation: OperationDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
): RootField[] {
  const fields: RootField[] = [];
  const seen = new Set<string>();
  const collect = (set: SelectionSetNode, depth: number) => {
    if (depth > 10) return;
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (name.startsWith('__')) continue;
        const responseKey = selection.alias?.value ?? name;
        if (!seen.has(responseKey)) {
          seen.add(responseKey);
          fields.push({ responseKey, name });
        }
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet, depth + 1);
      } else {
        const fragment = fragments.get(selection.name.value);
        if (fragment) collect(fragment.selectionSet, depth + 1);
      }
    }
  };
  collect(operation.selectionSet, 0);
  return fields;
}

const TYPE_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

function define<V, R>(
  kind: 'query' | 'mutation',
  definition: OperationDefinition<V, R>,
): OperationBase<V, R> & { kind: typeof kind } {
  if (!definition || typeof definition.document !== 'string') {
    throw new TypeError(`define${kind === 'query' ? 'Query' : 'Mutation'}: a document string is required`);
  }
  if (!definition.schema || typeof definition.schema.safeParse !== 'function') {
    throw new TypeError('GraphQL operation: `schema` must be a zod schema (anything with safeParse)');
  }
  let parsed: DocumentNode;
  try {
    parsed = parse(definition.document);
  } catch (error) {
    throw new TypeError(`GraphQL document does not parse: ${(error as Error).message}`);
  }
  const operations = parsed.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  if (operations.length !== 1) {
    throw new TypeError(`A GraphQL document must hold exactly one operation, found ${operations.length}`);
  }
  const operation = operations[0]!;
  if (operation.operation !== kind) {
    throw new TypeError(
      `Expected a ${kind}, got a ${operation.operation}: use ${operation.operation === 'query' ? 'defineQuery' : operation.operation === 'mutation' ? 'defineMutation' : 'neither (subscriptions are not supported)'}`,
    );
  }
  const operationName = operation.name?.value;
  if (!operationName) {
    throw new TypeError(
      'Name the GraphQL operation (e.g. `query AuthorBySlug(...)`): the name labels cache keys, events and errors',
    );
  }
  for (const [typename, plural] of Object.entries(definition.types ?? {})) {
    if (!TYPE_NAME.test(typename) || !/^[a-z0-9][a-z0-9-_]*$/i.test(plural)) {
      throw new TypeError(`GraphQL types: "${typename}" → "${plural}" is not a type name → plural API id`);
    }
  }
  const fragments = new Map(
    parsed.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const document = print(addTypename(parsed));
  return Object.freeze({
    kind,
    operationName,
    document,
    hash: createHash('sha256').update(document).digest('hex').slice(0, 16),
    rootFields: Object.freeze(rootFieldsOf(operation, fragments)),
    schema: definition.schema,
    variables: definition.variables,
    types: Object.freeze({ ...(definition.types ?? {}) }),
  });
}

/**
 * A typed, cacheable GraphQL query. Parsed and checked once (throws a TypeError for a syntax
 * error, no or several operations, a mutation, or an anonymous operation), so define it as a
 * module-level constant:
 *
 *   const AuthorBySlug = defineQuery({
 *     document: `query AuthorBySlug($slug: String!) { authors(filters: { slug: { eq: $slug } }) { documentId name } }`,
 *     variables: z.object({ slug: z.string() }),
 *     schema: z.object({ authors: z.array(z.object({ documentId: z.string(), name: z.string() })) }),
 *   });
 */
export function defineQuery<R, V = Record<string, unknown>>(
  definition: OperationDefinition<V, R>,
): GraphQLQuery<V, R> {
  return define('query', definition) as GraphQLQuery<V, R>;
}

/** A typed GraphQL mutation: never cached, never retried; invalidates what it returns. */
export function defineMutation<R, V = Record<string, unknown>>(
  definition: OperationDefinition<V, R>,
): GraphQLMutation<V, R> {
  return define('mutation', definition) as GraphQLMutation<V, R>;
}
