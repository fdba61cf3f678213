import type { User } from '$shared/values/users.ts';

declare global {
  namespace App {
    interface Locals {
      lang: 'ru' | 'en';
      /** The signed-in user (from GET /api/me with the request's cookie), or null. */
      user: User | null;
    }
    interface Error {
      message: string;
      code?: string;
    }
  }
}
export {};
