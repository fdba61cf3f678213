declare global {
  namespace App {
    interface Locals {
      lang: 'ru' | 'en';
    }
  }
}
export {};
