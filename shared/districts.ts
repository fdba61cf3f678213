/**
 * Moscow's 12 administrative okrugs and their districts (районы) / settlements (поселения) — the list a
 * resident picks their district from. Data only (no imports): the server validates profiles against it
 * and the web imports it for the profile form. Slugs are stable latin ids: never rename one (profiles and
 * poll audiences store them); add new entries instead. Reflects the 125 districts of "old" Moscow and the
 * 21 settlements of the Novomoskovsky and Troitsky okrugs.
 */
export type OkrugId = 'cao' | 'sao' | 'svao' | 'vao' | 'yuvao' | 'yuao' | 'yuzao' | 'zao' | 'szao' | 'zelao' | 'nao' | 'tao';
export type LocalName = { ru: string; en: string };
export type Okrug = { id: OkrugId; abbr: LocalName; name: LocalName };
export type District = { id: string; okrug: OkrugId; kind: 'district' | 'settlement'; name: LocalName };

type Row = readonly [id: string, ru: string, en: string];

const OKRUG_ROWS: readonly (readonly [OkrugId, string, string, string, string, 'district' | 'settlement', readonly Row[]])[] = [
  ['cao', 'ЦАО', 'TsAO', 'Центральный административный округ', 'Central Administrative Okrug', 'district', [
    ['arbat', 'Арбат', 'Arbat'],
    ['basmanny', 'Басманный', 'Basmanny'],
    ['zamoskvorechye', 'Замоскворечье', 'Zamoskvorechye'],
    ['krasnoselsky', 'Красносельский', 'Krasnoselsky'],
    ['meshchansky', 'Мещанский', 'Meshchansky'],
    ['presnensky', 'Пресненский', 'Presnensky'],
    ['tagansky', 'Таганский', 'Tagansky'],
    ['tverskoy', 'Тверской', 'Tverskoy'],
    ['khamovniki', 'Хамовники', 'Khamovniki'],
    ['yakimanka', 'Якиманка', 'Yakimanka'],
  ]],
  ['sao', 'САО', 'SAO', 'Северный административный округ', 'Northern Administrative Okrug', 'district', [
    ['aeroport', 'Аэропорт', 'Aeroport'],
    ['begovoy', 'Беговой', 'Begovoy'],
    ['beskudnikovsky', 'Бескудниковский', 'Beskudnikovsky'],
    ['voykovsky', 'Войковский', 'Voykovsky'],
    ['vostochnoye-degunino', 'Восточное Дегунино', 'Vostochnoye Degunino'],
    ['golovinsky', 'Головинский', 'Golovinsky'],
    ['dmitrovsky', 'Дмитровский', 'Dmitrovsky'],
    ['zapadnoye-degunino', 'Западное Дегунино', 'Zapadnoye Degunino'],
    ['koptevo', 'Коптево', 'Koptevo'],
    ['levoberezhny', 'Левобережный', 'Levoberezhny'],
    ['molzhaninovsky', 'Молжаниновский', 'Molzhaninovsky'],
    ['savyolovsky', 'Савёловский', 'Savyolovsky'],
    ['sokol', 'Сокол', 'Sokol'],
    ['timiryazevsky', 'Тимирязевский', 'Timiryazevsky'],
    ['khovrino', 'Ховрино', 'Khovrino'],
    ['khoroshyovsky', 'Хорошёвский', 'Khoroshyovsky'],
  ]],
  ['svao', 'СВАО', 'SVAO', 'Северо-Восточный административный округ', 'North-Eastern Administrative Okrug', 'district', [
    ['alekseyevsky', 'Алексеевский', 'Alekseyevsky'],
    ['altufyevsky', 'Алтуфьевский', 'Altufyevsky'],
    ['babushkinsky', 'Бабушкинский', 'Babushkinsky'],
    ['bibirevo', 'Бибирево', 'Bibirevo'],
    ['butyrsky', 'Бутырский', 'Butyrsky'],
    ['lianozovo', 'Лианозово', 'Lianozovo'],
    ['losinoostrovsky', 'Лосиноостровский', 'Losinoostrovsky'],
    ['marfino', 'Марфино', 'Marfino'],
    ['maryina-roshcha', 'Марьина Роща', 'Maryina Roshcha'],
    ['ostankinsky', 'Останкинский', 'Ostankinsky'],
    ['otradnoye', 'Отрадное', 'Otradnoye'],
    ['rostokino', 'Ростокино', 'Rostokino'],
    ['sviblovo', 'Свиблово', 'Sviblovo'],
    ['severny', 'Северный', 'Severny'],
    ['severnoye-medvedkovo', 'Северное Медведково', 'Severnoye Medvedkovo'],
    ['yuzhnoye-medvedkovo', 'Южное Медведково', 'Yuzhnoye Medvedkovo'],
    ['yaroslavsky', 'Ярославский', 'Yaroslavsky'],
  ]],
  ['vao', 'ВАО', 'VAO', 'Восточный административный округ', 'Eastern Administrative Okrug', 'district', [
    ['bogorodskoye', 'Богородское', 'Bogorodskoye'],
    ['veshnyaki', 'Вешняки', 'Veshnyaki'],
    ['vostochnoye-izmaylovo', 'Восточное Измайлово', 'Vostochnoye Izmaylovo'],
    ['vostochny', 'Восточный', 'Vostochny'],
    ['golyanovo', 'Гольяново', 'Golyanovo'],
    ['ivanovskoye', 'Ивановское', 'Ivanovskoye'],
    ['izmaylovo', 'Измайлово', 'Izmaylovo'],
    ['kosino-ukhtomsky', 'Косино-Ухтомский', 'Kosino-Ukhtomsky'],
    ['metrogorodok', 'Метрогородок', 'Metrogorodok'],
    ['novogireyevo', 'Новогиреево', 'Novogireyevo'],
    ['novokosino', 'Новокосино', 'Novokosino'],
    ['perovo', 'Перово', 'Perovo'],
    ['preobrazhenskoye', 'Преображенское', 'Preobrazhenskoye'],
    ['severnoye-izmaylovo', 'Северное Измайлово', 'Severnoye Izmaylovo'],
    ['sokolinaya-gora', 'Соколиная Гора', 'Sokolinaya Gora'],
    ['sokolniki', 'Сокольники', 'Sokolniki'],
  ]],
  ['yuvao', 'ЮВАО', 'YuVAO', 'Юго-Восточный административный округ', 'South-Eastern Administrative Okrug', 'district', [
    ['vykhino-zhulebino', 'Выхино-Жулебино', 'Vykhino-Zhulebino'],
    ['kapotnya', 'Капотня', 'Kapotnya'],
    ['kuzminki', 'Кузьминки', 'Kuzminki'],
    ['lefortovo', 'Лефортово', 'Lefortovo'],
    ['lyublino', 'Люблино', 'Lyublino'],
    ['maryino', 'Марьино', 'Maryino'],
    ['nekrasovka', 'Некрасовка', 'Nekrasovka'],
    ['nizhegorodsky', 'Нижегородский', 'Nizhegorodsky'],
    ['pechatniki', 'Печатники', 'Pechatniki'],
    ['ryazansky', 'Рязанский', 'Ryazansky'],
    ['tekstilshchiki', 'Текстильщики', 'Tekstilshchiki'],
    ['yuzhnoportovy', 'Южнопортовый', 'Yuzhnoportovy'],
  ]],
  ['yuao', 'ЮАО', 'YuAO', 'Южный административный округ', 'Southern Administrative Okrug', 'district', [
    ['biryulyovo-vostochnoye', 'Бирюлёво Восточное', 'Biryulyovo Vostochnoye'],
    ['biryulyovo-zapadnoye', 'Бирюлёво Западное', 'Biryulyovo Zapadnoye'],
    ['brateyevo', 'Братеево', 'Brateyevo'],
    ['danilovsky', 'Даниловский', 'Danilovsky'],
    ['donskoy', 'Донской', 'Donskoy'],
    ['zyablikovo', 'Зябликово', 'Zyablikovo'],
    ['moskvorechye-saburovo', 'Москворечье-Сабурово', 'Moskvorechye-Saburovo'],
    ['nagatino-sadovniki', 'Нагатино-Садовники', 'Nagatino-Sadovniki'],
    ['nagatinsky-zaton', 'Нагатинский Затон', 'Nagatinsky Zaton'],
    ['nagorny', 'Нагорный', 'Nagorny'],
    ['orekhovo-borisovo-severnoye', 'Орехово-Борисово Северное', 'Orekhovo-Borisovo Severnoye'],
    ['orekhovo-borisovo-yuzhnoye', 'Орехово-Борисово Южное', 'Orekhovo-Borisovo Yuzhnoye'],
    ['tsaritsyno', 'Царицыно', 'Tsaritsyno'],
    ['chertanovo-severnoye', 'Чертаново Северное', 'Chertanovo Severnoye'],
    ['chertanovo-tsentralnoye', 'Чертаново Центральное', 'Chertanovo Tsentralnoye'],
    ['chertanovo-yuzhnoye', 'Чертаново Южное', 'Chertanovo Yuzhnoye'],
  ]],
  ['yuzao', 'ЮЗАО', 'YuZAO', 'Юго-Западный административный округ', 'South-Western Administrative Okrug', 'district', [
    ['akademichesky', 'Академический', 'Akademichesky'],
    ['gagarinsky', 'Гагаринский', 'Gagarinsky'],
    ['zyuzino', 'Зюзино', 'Zyuzino'],
    ['konkovo', 'Коньково', 'Konkovo'],
    ['kotlovka', 'Котловка', 'Kotlovka'],
    ['lomonosovsky', 'Ломоносовский', 'Lomonosovsky'],
    ['obruchevsky', 'Обручевский', 'Obruchevsky'],
    ['severnoye-butovo', 'Северное Бутово', 'Severnoye Butovo'],
    ['tyoply-stan', 'Тёплый Стан', 'Tyoply Stan'],
    ['cheryomushki', 'Черёмушки', 'Cheryomushki'],
    ['yuzhnoye-butovo', 'Южное Бутово', 'Yuzhnoye Butovo'],
    ['yasenevo', 'Ясенево', 'Yasenevo'],
  ]],
  ['zao', 'ЗАО', 'ZAO', 'Западный административный округ', 'Western Administrative Okrug', 'district', [
    ['vnukovo', 'Внуково', 'Vnukovo'],
    ['dorogomilovo', 'Дорогомилово', 'Dorogomilovo'],
    ['krylatskoye', 'Крылатское', 'Krylatskoye'],
    ['kuntsevo', 'Кунцево', 'Kuntsevo'],
    ['mozhaysky', 'Можайский', 'Mozhaysky'],
    ['novo-peredelkino', 'Ново-Переделкино', 'Novo-Peredelkino'],
    ['ochakovo-matveyevskoye', 'Очаково-Матвеевское', 'Ochakovo-Matveyevskoye'],
    ['prospekt-vernadskogo', 'Проспект Вернадского', 'Prospekt Vernadskogo'],
    ['ramenki', 'Раменки', 'Ramenki'],
    ['solntsevo', 'Солнцево', 'Solntsevo'],
    ['troparyovo-nikulino', 'Тропарёво-Никулино', 'Troparyovo-Nikulino'],
    ['filyovsky-park', 'Филёвский Парк', 'Filyovsky Park'],
    ['fili-davydkovo', 'Фили-Давыдково', 'Fili-Davydkovo'],
  ]],
  ['szao', 'СЗАО', 'SZAO', 'Северо-Западный административный округ', 'North-Western Administrative Okrug', 'district', [
    ['kurkino', 'Куркино', 'Kurkino'],
    ['mitino', 'Митино', 'Mitino'],
    ['pokrovskoye-streshnevo', 'Покровское-Стрешнево', 'Pokrovskoye-Streshnevo'],
    ['severnoye-tushino', 'Северное Тушино', 'Severnoye Tushino'],
    ['strogino', 'Строгино', 'Strogino'],
    ['khoroshyovo-mnyovniki', 'Хорошёво-Мнёвники', 'Khoroshyovo-Mnyovniki'],
    ['shchukino', 'Щукино', 'Shchukino'],
    ['yuzhnoye-tushino', 'Южное Тушино', 'Yuzhnoye Tushino'],
  ]],
  ['zelao', 'ЗелАО', 'ZelAO', 'Зеленоградский административный округ', 'Zelenogradsky Administrative Okrug', 'district', [
    ['matushkino', 'Матушкино', 'Matushkino'],
    ['savyolki', 'Савёлки', 'Savyolki'],
    ['staroye-kryukovo', 'Старое Крюково', 'Staroye Kryukovo'],
    ['silino', 'Силино', 'Silino'],
    ['kryukovo', 'Крюково', 'Kryukovo'],
  ]],
  ['nao', 'НАО', 'NAO', 'Новомосковский административный округ', 'Novomoskovsky Administrative Okrug', 'settlement', [
    ['vnukovskoye', 'Внуковское', 'Vnukovskoye'],
    ['voskresenskoye', 'Воскресенское', 'Voskresenskoye'],
    ['desyonovskoye', 'Десёновское', 'Desyonovskoye'],
    ['kokoshkino', 'Кокошкино', 'Kokoshkino'],
    ['marushkinskoye', 'Марушкинское', 'Marushkinskoye'],
    ['moskovsky', 'Московский', 'Moskovsky'],
    ['mosrentgen', 'Мосрентген', 'Mosrentgen'],
    ['ryazanovskoye', 'Рязановское', 'Ryazanovskoye'],
    ['sosenskoye', 'Сосенское', 'Sosenskoye'],
    ['filimonkovskoye', 'Филимонковское', 'Filimonkovskoye'],
    ['shcherbinka', 'Щербинка', 'Shcherbinka'],
  ]],
  ['tao', 'ТАО', 'TAO', 'Троицкий административный округ', 'Troitsky Administrative Okrug', 'settlement', [
    ['voronovskoye', 'Вороновское', 'Voronovskoye'],
    ['kiyevsky', 'Киевский', 'Kiyevsky'],
    ['klyonovskoye', 'Клёновское', 'Klyonovskoye'],
    ['krasnopakhorskoye', 'Краснопахорское', 'Krasnopakhorskoye'],
    ['mikhaylovo-yartsevskoye', 'Михайлово-Ярцевское', 'Mikhaylovo-Yartsevskoye'],
    ['novofyodorovskoye', 'Новофёдоровское', 'Novofyodorovskoye'],
    ['pervomayskoye', 'Первомайское', 'Pervomayskoye'],
    ['rogovskoye', 'Роговское', 'Rogovskoye'],
    ['troitsk', 'Троицк', 'Troitsk'],
    ['shchapovskoye', 'Щаповское', 'Shchapovskoye'],
  ]],
];

export const OKRUGS: readonly Okrug[] = OKRUG_ROWS.map(([id, abbrRu, abbrEn, ru, en]) => ({ id, abbr: { ru: abbrRu, en: abbrEn }, name: { ru, en } }));

export const DISTRICTS: readonly District[] = OKRUG_ROWS.flatMap(([okrug, , , , , kind, rows]) =>
  rows.map(([id, ru, en]) => ({ id, okrug, kind, name: { ru, en } })),
);

const byId = new Map(DISTRICTS.map((d) => [d.id, d]));

/** Every district slug, for zod enums and checks. */
export const DISTRICT_IDS: readonly string[] = DISTRICTS.map((d) => d.id);

export function isDistrictId(id: unknown): id is string {
  return typeof id === 'string' && byId.has(id);
}

export function districtById(id: string): District | undefined {
  return byId.get(id);
}

/** A resident's okrug follows from their district. */
export function okrugOf(districtId: string | null | undefined): OkrugId | null {
  return (districtId && byId.get(districtId)?.okrug) || null;
}
