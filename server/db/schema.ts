import type { ColumnType, Generated } from 'kysely';

/**
 * The PostgreSQL tables as Kysely sees them (migrations in ./migrations create them). Timestamps are
 * timestamptz read back as Date; `date` columns as 'YYYY-MM-DD' strings (see db.ts type parsers).
 */
type Ts = ColumnType<Date, Date | string, Date | string>;
type TsDefault = ColumnType<Date, Date | string | undefined, Date | string>;

export interface CityCategoryTable {
  code: string;
  name_ru: string;
  name_en: string;
  org_kind: string;
  deadline_days: number;
  active: boolean;
  sort: number;
}

export interface CityOrganisationTable {
  id: Generated<number>;
  slug: string;
  name_ru: string;
  name_en: string;
  kind: string;
  active: boolean;
}

export interface CityOrgDistrictTable {
  organisation_id: number;
  district: string;
}

export interface CityOrgCategoryTable {
  organisation_id: number;
  category: string;
}

export interface CityResponderTable {
  user_id: number;
  organisation_id: number;
}

export interface CityReportTable {
  id: Generated<number>;
  reporter_id: number;
  category: string;
  district: string;
  okrug: string;
  address: string;
  /** lower-cased, punctuation and spaces collapsed: what duplicates are matched on */
  address_key: string;
  lat: number | null;
  lng: number | null;
  description: string;
  status: string;
  organisation_id: number | null;
  /** the current answer cycle (city_cycles.seq), 0 before the first routing */
  cycle: Generated<number>;
  deadline: Ts | null;
  answered_at: Ts | null;
  outcome: string | null;
  planned_for: string | null;
  resolution: string | null;
  merged_into: number | null;
  reject_reason: string | null;
  disputes: Generated<number>;
  supporters: Generated<number>;
  timeline_seq: Generated<number>;
  points_awarded_at: Ts | null;
  created_at: TsDefault;
  updated_at: TsDefault;
  closed_at: Ts | null;
}

/** One routing of a report to an organisation: its deadline and what became of it (the board's source). */
export interface CityCycleTable {
  report_id: number;
  seq: number;
  organisation_id: number;
  district: string;
  routed_at: Ts;
  deadline: Ts;
  answered_at: Ts | null;
  answer_working_days: number | null;
  outcome: string | null;
  disputed: Generated<boolean>;
  reminded_at: Ts | null;
  escalated_at: Ts | null;
}

export interface CityTimelineTable {
  report_id: number;
  seq: number;
  step: string;
  at: TsDefault;
  actor_id: number | null;
  actor_role: string;
  organisation_id: number | null;
  note: string | null;
  outcome: string | null;
  planned_for: string | null;
  deadline: Ts | null;
  reason: string | null;
  merged_into: number | null;
}

export interface CityPhotoTable {
  report_id: number;
  /** 0 = the report's own photos; otherwise the timeline step they came with (an answer) */
  timeline_seq: number;
  idx: number;
  hash: string;
  width: number;
  height: number;
  bytes: number;
}

export interface CitySupportTable {
  report_id: number;
  user_id: number;
  at: TsDefault;
}

export interface CityAlertTable {
  user_id: number;
  districts: string[];
  categories: string[];
  updated_at: TsDefault;
}

export interface CityBoardDailyTable {
  scope: 'organisation' | 'district';
  key: string;
  day: string;
  received: Generated<number>;
  answered: Generated<number>;
  on_time: Generated<number>;
  disputed: Generated<number>;
  answer_days: Generated<(number | null)[]>;
}

export interface Database {
  city_board_daily: CityBoardDailyTable;
  city_categories: CityCategoryTable;
  city_organisations: CityOrganisationTable;
  city_org_districts: CityOrgDistrictTable;
  city_org_categories: CityOrgCategoryTable;
  city_responders: CityResponderTable;
  city_reports: CityReportTable;
  city_cycles: CityCycleTable;
  city_timeline: CityTimelineTable;
  city_photos: CityPhotoTable;
  city_supports: CitySupportTable;
  city_alerts: CityAlertTable;
}
