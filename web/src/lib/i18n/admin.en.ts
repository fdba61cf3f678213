import type { adminRu } from './admin.ru.ts';

/** The admin area's strings in English. Typed against the Russian ones: a missing or extra key fails the check. */
export const adminEn: Record<keyof typeof adminRu, string> = {
  'admin.title': 'Administration',
  'admin.users': 'Users and roles',
  'admin.lookup': 'Phone or user number',
  'admin.lookupHint': 'For example +7 999 123-45-67 or 42',
  'admin.find': 'Find',
  'admin.notFound': 'No such user.',
  'admin.id': 'Number',
  'admin.since': 'Signed up',
  'admin.profile': 'Profile complete',
  'admin.saveRoles': 'Save roles',
  'admin.saved': 'Roles saved: {roles}. They apply from the user\'s next request.',
  'admin.selfAdmin': 'You cannot remove your own admin role — ask another admin.',
  'admin.tools': 'Tools',
  'admin.queues': 'Job queues (bull-board)',
  'admin.metrics': 'Metrics (Prometheus)',
};
