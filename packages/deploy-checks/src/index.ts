export * from './compose.ts';
export * from './dockerfile.ts';
export * from './interpolate.ts';
export * from './k8s.ts';
export * from './metrics.ts';
export * from './repo.ts';
export * from './recipe.ts';
export * from './tracing.ts';
