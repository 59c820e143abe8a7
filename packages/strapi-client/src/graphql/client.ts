import { StrapiBadResponseError } from '../errors.ts';
import type { StrapiLogger } from '../options.ts';
import { createKeyer } from '../query.ts';
import { type StrapiSchema, schemaIssues } from '../schema.ts';
import type { Transport } from '../transport.ts';
import type { GraphQLMutation, GraphQLQuery } from './document.ts';
import { interpretGraphQL } from './errors.ts';
import { createTypeResolver, type GraphQLTagOptions, graphqlTags, type TypeResolver } from './tags.ts';

/** Per-call cache control of a GraphQL query (the REST reads' options, tags derived from the answer). */
export interface GraphQLCacheOptions<R> extends GraphQLTagOptions {
  /** false: bypass the cache for this call (no read, no write). Default true. */
  cache?: boolean;
  ttlMs?: number;
  graceMs?: number;
  /** Extra tags, fixed or computed from the validated result. */
  tags?: string[] | ((result: R) => string[]);
}

export interface GraphQLWriteOptions {
  /** Invalidate the type and doc tags of every document the mutation returned. Default true. */
  invalidate?: boolean;
  /** More tags to invalidate after the mutation. */
  tags?: string[];
}

/** Variables are optional when every variable is. */
type VariablesArg<V, O> = Partial<V> extends V ? [variables?: V, options?: O] : [variables: V, options?: O];

export interface GraphQLClient {
  /**
   * Runs a query through the REST reads' path: same L1/L2 cache and coalescing (key: the
   * normalised document's hash + the variables, order-independent), same timeout, retries,
   * breaker and concurrency cap. Resolves with `schema`'s output for `data`.
   */
  query<V, R>(operation: GraphQLQuery<V, R>, ...args: VariablesArg<V, GraphQLCacheOptions<R>>): Promise<R>;
  /** Runs a mutation: never cached, never retried; then invalidates what it returned. */
  mutate<V, R>(operation: GraphQLMutation<V, R>, ...args: VariablesArg<V, GraphQLWriteOptions>): Promise<R>;
}

type CallCacheOptions = { cache?: boolean; ttlMs?: number; graceMs?: number };

/** What the GraphQL transport borrows from the client: its transport, cache path and invalidation. */
export interface GraphQLClientDeps {
  transport: Transport;
  /** GraphQL endpoint path, e.g. `/graphql`. */
  path: string;
  /** Client-wide `__typename` → plural API id. */
  types: Readonly<Record<string, string>>;
  logger: StrapiLogger;
  ensureOpen(): void;
  fastHit<R>(
    type: string,
    key: string,
    schema: object,
    cacheOptions: CallCacheOptions | undefined,
  ): R | undefined;
  cachedRead<R>(
    type: string,
    key: string,
    schema: object,
    fetchRaw: () => Promise<unknown>,
    parse: (raw: unknown) => R,
    tagsFor: (raw: unknown, parsed: R) => string[] | null,
    cacheOptions: CallCacheOptions | undefined,
  ): Promise<R>;
  invalidateTags(tags: string[]): Promise<void>;
}

const TYPE_TAG_VARIANTS = [true, false, 'if-empty'] as const;

interface Prepared {
  type: string;
  resolver: TypeResolver;
  keyers: Array<(variables: object | undefined) => string>;
  interpret: ReturnType<typeof interpretGraphQL>;
}

export function createGraphQLClient(deps: GraphQLClientDeps): GraphQLClient {
  const prepared = new WeakMap<object, Prepared>();
  const warned = new Set<string>();

  function prepare(operation: GraphQLQuery<unknown, unknown> | GraphQLMutation<unknown, unknown>): Prepared {
    let entry = prepared.get(operation);
    if (!entry) {
      const prefix = `g:${operation.operationName}:${operation.hash}:`;
      const keyers: Prepared['keyers'] = [];
      // One key space per tag variant: answers cached with different tags must not share an entry.
      for (let t = 0; t < TYPE_TAG_VARIANTS.length; t++) {
        for (let d = 0; d < 2; d++)
          keyers.push(createKeyer(t === 0 && d === 0 ? prefix : `${prefix}t${t}d${d}:`));
      }
      entry = {
        type: `graphql:${operation.operationName}`,
        resolver: createTypeResolver({ ...deps.types, ...operation.types }),
        keyers,
        interpret: interpretGraphQL(operation.operationName),
      };
      prepared.set(operation, entry);
    }
    return entry;
  }

  function checkVariables<V>(
    operation: { operationName: string; variables: StrapiSchema<V> | undefined },
    variables: V | undefined,
  ): V {
    const given = (variables ?? {}) as V;
    if (!operation.variables) return given;
    const result = operation.variables.safeParse(given);
    if (result.success) return result.data;
    const issues = schemaIssues(result.error, '')
      .map((issue) => `${issue.path || '(root)'}: ${issue.message}`)
      .join('; ');
    throw new TypeError(`GraphQL ${operation.operationName}: invalid variables: ${issues}`);
  }

  function parseData<R>(raw: unknown, schema: StrapiSchema<R>, operationName: string): R {
    const data = (raw as { data?: unknown }).data;
    const result = schema.safeParse(data);
    if (!result.success) {
      throw new StrapiBadResponseError(
        `Strapi GraphQL ${operationName}: response does not match the schema`,
        { method: 'POST', path: deps.path, issues: schemaIssues(result.error, 'data') },
      );
    }
    return result.data;
  }

  function send(
    operation: { document: string; operationName: string },
    variables: unknown,
    entry: Prepared,
    idempotent: boolean,
  ) {
    return deps.transport.request({
      method: 'POST',
      prefix: '',
      path: deps.path,
      body: { query: operation.document, variables, operationName: operation.operationName },
      type: entry.type,
      idempotent,
      interpret: entry.interpret,
    });
  }

  return {
    query<V, R>(operation: GraphQLQuery<V, R>, ...args: VariablesArg<V, GraphQLCacheOptions<R>>): Promise<R> {
      const [rawVariables, cacheOptions] = args as [V | undefined, GraphQLCacheOptions<R> | undefined];
      if (operation?.kind !== 'query') {
        return Promise.reject(new TypeError('graphql.query() takes an operation made by defineQuery()'));
      }
      let variables: V;
      try {
        variables = checkVariables(operation, rawVariables);
      } catch (error) {
        return Promise.reject(error);
      }
      const entry = prepare(operation as GraphQLQuery<unknown, unknown>);
      const typeMode = cacheOptions?.typeTag ?? true;
      const variant =
        (typeMode === true ? 0 : typeMode === false ? 1 : 2) * 2 + (cacheOptions?.docTags === false ? 1 : 0);
      const key = entry.keyers[variant]!(variables as object | undefined);
      const hit = deps.fastHit<R>(entry.type, key, operation.schema, cacheOptions);
      if (hit !== undefined) return Promise.resolve(hit);
      return deps.cachedRead<R>(
        entry.type,
        key,
        operation.schema,
        () => send(operation, variables, entry, true),
        (raw) => parseData(raw, operation.schema, operation.operationName),
        (raw, parsed) => {
          const plan = graphqlTags(
            (raw as { data?: unknown }).data,
            operation.rootFields,
            entry.resolver,
            cacheOptions,
          );
          if (plan.untaggable.length > 0) {
            const warning = `${operation.operationName}:${plan.untaggable.join(',')}`;
            if (!warned.has(warning)) {
              warned.add(warning);
              deps.logger.warn(
                { operation: operation.operationName, untaggable: plan.untaggable },
                'strapi-client: GraphQL answer not cached: name these types in graphql.types (`__typename` → plural API id) so a webhook can invalidate it',
              );
            }
            return null;
          }
          const extra = cacheOptions?.tags;
          if (extra) plan.tags.push(...(typeof extra === 'function' ? extra(parsed) : extra));
          return plan.tags;
        },
        cacheOptions,
      );
    },

    async mutate<V, R>(
      operation: GraphQLMutation<V, R>,
      ...args: VariablesArg<V, GraphQLWriteOptions>
    ): Promise<R> {
      const [rawVariables, write] = args as [V | undefined, GraphQLWriteOptions | undefined];
      if (operation?.kind !== 'mutation') {
        throw new TypeError('graphql.mutate() takes an operation made by defineMutation()');
      }
      deps.ensureOpen();
      const variables = checkVariables(operation, rawVariables);
      const entry = prepare(operation as GraphQLMutation<unknown, unknown>);
      const raw = await send(operation, variables, entry, false);
      const result = parseData(raw, operation.schema, operation.operationName);
      const tags = [...(write?.tags ?? [])];
      if (write?.invalidate !== false) {
        tags.push(
          ...graphqlTags((raw as { data?: unknown }).data, operation.rootFields, entry.resolver).tags,
        );
      }
      if (tags.length > 0) await deps.invalidateTags([...new Set(tags)]);
      return result;
    },
  };
}
