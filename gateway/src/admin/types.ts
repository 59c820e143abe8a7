import type { IncomingHttpHeaders } from 'node:http';
import type { ControlPlane } from '../control/plane.ts';

/**
 * What admin endpoints are written against: the request as a handler sees it, the non-JSON
 * reply, and the router that mounts them (the admin server, see server.ts).
 */
export interface AdminRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  actor: { who: string; ip: string };
  /** The JSON body as an object (≤ 64 KiB); `{}` when empty; 400 INVALID_JSON otherwise. */
  body(): Promise<Record<string, unknown>>;
}

/** A non-JSON answer (Prometheus text, the control page's files, a redirect). */
export class RawReply {
  readonly status: number;
  readonly headers: Record<string, string | number>;
  readonly body: string | Buffer;
  constructor(status: number, headers: Record<string, string | number>, body: string | Buffer) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }
}

/** Return a value to send it as JSON (200), or a RawReply. */
export type AdminHandler = (r: AdminRequest) => Promise<unknown> | unknown;

export interface AdminRouter {
  /** The control plane the endpoints read and change. */
  readonly control: ControlPlane;
  /** Adds a route; `:name` segments become params. Non-public routes need the token. */
  route(method: string, path: string, handler: AdminHandler, options?: { public?: boolean }): void;
}
