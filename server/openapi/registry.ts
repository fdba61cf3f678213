import type { z } from 'zod';
import type { Role } from '../../shared/users.ts';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export type ResponseDoc = {
  description: string;
  /** JSON body schema (from shared/); omitted for empty bodies. */
  schema?: z.ZodType;
  /** Default application/json; e.g. text/csv for exports (then `schema` is ignored and a string is documented). */
  contentType?: string;
};

/** One route of the public API, as the OpenAPI document describes it. */
export type RouteDoc = {
  method: HttpMethod;
  /** Express-style path under `mount`, e.g. `/polls/:id/decision`. */
  path: string;
  /** Where the router is mounted: `/api` (default) or `/open311/v2` (DOCUMENTED_MOUNTS in document.ts). */
  mount?: '/api' | '/open311/v2';
  summary: string;
  tag: string;
  /** Who may call it: anyone, any signed-in user, or one of these roles. */
  auth: 'public' | 'user' | Role[];
  /** Path parameters; by default every `:name` is a required string. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A multipart/form-data body instead of JSON: text fields, and files under one field name. */
  multipart?: { fields: z.ZodObject; files: string; maxFiles: number };
  /** Success responses by status; the error responses (the one error shape) are added for you. */
  responses: Record<number, ResponseDoc>;
  /** Error codes (shared/errors.ts) this route may answer with beyond the generic ones. */
  errors?: number[];
};

/** A tiny route registry: every router's routes, declared once, read by the document generator. */
export function createRouteRegistry() {
  const routes: RouteDoc[] = [];
  return {
    add(...docs: RouteDoc[]) {
      for (const d of docs) {
        if (routes.some((r) => r.method === d.method && r.path === d.path)) throw new Error(`route ${d.method.toUpperCase()} ${d.path} documented twice`);
        routes.push(d);
      }
      return this;
    },
    routes: () => routes.slice(),
  };
}
export type RouteRegistry = ReturnType<typeof createRouteRegistry>;
