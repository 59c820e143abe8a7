export { hashPassword, type PasswordHash, SCRYPT_PARAMS, verifyPassword } from './passwords.ts';
export { createRedisRefreshStore } from './redis-store.ts';
export {
  createMemoryRefreshStore,
  type InspectResult,
  type RefreshStore,
  type RotateResult,
} from './refresh-store.ts';
export { type AuthServiceOptions, createAuthService } from './service.ts';
export type { AuthService, AuthUser } from './types.ts';
