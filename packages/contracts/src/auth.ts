import { z } from 'zod';

export const LoginBody = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(256),
  })
  .strict();
export type LoginBody = z.infer<typeof LoginBody>;

export const RefreshBody = z.object({ refreshToken: z.string().min(1).max(1024) }).strict();
export type RefreshBody = z.infer<typeof RefreshBody>;

export const TokenPair = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('Access token lifetime in seconds.'),
});
export type TokenPair = z.infer<typeof TokenPair>;

export const Me = z.object({ id: z.string(), username: z.string(), name: z.string() });
export type Me = z.infer<typeof Me>;
export const MeResponse = z.object({ data: Me });
export type MeResponse = z.infer<typeof MeResponse>;
