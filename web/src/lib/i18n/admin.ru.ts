/**
 * The admin area's strings (Russian, default). Loaded by routes/admin/+page.ts only and merged into the
 * page's dictionary, so no other page downloads them; `t()` takes these keys too (AdminKey).
 */
export const adminRu = {
  'admin.title': 'Администрирование',
  'admin.users': 'Пользователи и роли',
  'admin.lookup': 'Телефон или номер пользователя',
  'admin.lookupHint': 'Например, +7 999 123-45-67 или 42',
  'admin.find': 'Найти',
  'admin.notFound': 'Пользователь не найден.',
  'admin.id': 'Номер',
  'admin.since': 'Зарегистрирован',
  'admin.profile': 'Профиль заполнен',
  'admin.saveRoles': 'Сохранить роли',
  'admin.saved': 'Роли сохранены: {roles}. Они действуют со следующего запроса пользователя.',
  'admin.selfAdmin': 'Свою роль администратора снять нельзя — попросите другого администратора.',
  'admin.tools': 'Инструменты',
  'admin.queues': 'Очереди задач (bull-board)',
  'admin.metrics': 'Метрики (Prometheus)',
} as const;
