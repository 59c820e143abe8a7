import type { Me, TokenPair } from '@pilot/contracts';

/**
 * JWT access tokens plus rotating refresh tokens. Refresh tokens belong to a family (one
 * login); presenting an already-rotated token revokes the whole family. Errors are thrown as
 * ApiError from @pilot/contracts: INVALID_CREDENTIALS, INVALID_TOKEN, REFRESH_TOKEN_REUSED.
 */
export interface AuthService {
  /**
   * Checks the password and starts a refresh-token family. `dryRun` (a mirrored request): the
   * same check and the shape of the answer, but no family is stored and the access token is
   * signed with a throwaway key (never valid), as for a dry-run refresh.
   */
  login(username: string, password: string, options?: { dryRun?: boolean }): Promise<TokenPair>;
  /**
   * Rotates the refresh token. With `dryRun` (a mirrored request): verifies it and answers as a
   * rotation would, but stores nothing: the family stays as it was, the refresh token in the
   * answer was never stored and its access token is signed with a throwaway key (same shape,
   * never valid), so a dry run cannot mint a session. A token rotated at or after `requestedAt`
   * (when the gateway received the mirrored request) was rotated by the served backend for this
   * very request and counts as live; an earlier rotation is a reuse: REFRESH_TOKEN_REUSED,
   * revoking nothing.
   */
  refresh(
    refreshToken: string,
    options?: { dryRun?: boolean; requestedAt?: number | undefined },
  ): Promise<TokenPair>;
  /** Verifies an access token (the raw token, without "Bearer "). */
  verify(accessToken: string): Promise<Me>;
  close(): Promise<void>;
}

/** A user the service can log in (the demo users from AUTH_USERS; plain-text password). */
export interface AuthUser {
  id: string;
  username: string;
  password: string;
  name: string;
}
