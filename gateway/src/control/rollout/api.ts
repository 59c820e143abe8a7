import { COMMANDS, type Command, RolloutCommandError } from './engine.ts';
import type { ActorInfo, RolloutController } from './controller.ts';

/**
 * The rollout admin API as plain handlers, independent of the HTTP server they are mounted on:
 *
 *   GET  /admin/rollouts                 every route with a rollout block and where it stands
 *   GET  /admin/rollouts/:id             one of them
 *   POST /admin/rollouts/:id/<command>   pause | resume | skip | abort | restart
 *
 * Errors are RolloutCommandError (status + stable code), which the server turns into its error
 * envelope: 404 ROLLOUT_NOT_FOUND, 409 ROLLOUT_INVALID_COMMAND, 503 ROLLOUT_BUSY /
 * ROLLOUT_STORE_UNAVAILABLE, 404 ROLLOUT_UNKNOWN_COMMAND.
 */
export const ROLLOUT_COMMANDS: readonly Command[] = COMMANDS;

export interface RolloutHandlers {
  list(): Promise<{ rollouts: ReturnType<RolloutController['view']>[] }>;
  get(id: string): Promise<ReturnType<RolloutController['view']>>;
  command(id: string, cmd: string, actor: ActorInfo): Promise<ReturnType<RolloutController['view']>>;
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof RolloutCommandError) throw error;
    throw new RolloutCommandError(
      'ROLLOUT_STORE_UNAVAILABLE',
      `rollout state unavailable, nothing changed: ${(error as Error).message}`,
      503,
    );
  }
}

export function rolloutHandlers(controller: RolloutController): RolloutHandlers {
  return {
    list: () =>
      guarded(async () => ({
        rollouts: (await controller.states()).map(({ route, state }) => controller.view(route, state)),
      })),
    get: (id) =>
      guarded(async () => {
        const route = controller.route(id);
        return controller.view(route, await controller.store.load(id));
      }),
    command: (id, cmd, actor) =>
      guarded(async () => {
        if (!(ROLLOUT_COMMANDS as readonly string[]).includes(cmd)) {
          throw new RolloutCommandError(
            'ROLLOUT_UNKNOWN_COMMAND',
            `unknown command "${cmd}" (one of ${ROLLOUT_COMMANDS.join(', ')})`,
            404,
          );
        }
        const route = controller.route(id);
        const state = await controller.command(id, cmd as Command, actor);
        return controller.view(route, state);
      }),
  };
}

/** The smallest router surface the handlers need: `route(method, path, handler)` with `:id` params. */
export interface RouterLike {
  route(
    method: string,
    path: string,
    handler: (r: { params: Record<string, string>; actor: ActorInfo }) => unknown,
  ): void;
}

/** Mounts the rollout endpoints on the admin router. */
export function mountRolloutApi(router: RouterLike, handlers: RolloutHandlers): void {
  router.route('GET', '/admin/rollouts', () => handlers.list());
  router.route('GET', '/admin/rollouts/:id', ({ params }) => handlers.get(params.id!));
  router.route('POST', '/admin/rollouts/:id/:command', ({ params, actor }) =>
    handlers.command(params.id!, params.command!, actor),
  );
}
