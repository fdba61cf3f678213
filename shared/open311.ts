import { z } from 'zod';
import { categoryCodeSchema } from './city.ts';

// Open311 GeoReport v2 (JSON) as served at /open311/v2 — field names as the spec defines them
// (http://wiki.open311.org/GeoReport_v2). The responses are documented in server/openapi/city.catalog.ts.

const iso = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'an ISO 8601 date-time').transform((s) => new Date(s));

export const open311RequestsQuery = z
  .object({
    service_request_id: z.string().regex(/^\d{1,12}(,\d{1,12}){0,99}$/, 'comma-separated ids').optional(),
    service_code: z.string().regex(/^[a-z][a-z0-9_]{1,39}(,[a-z][a-z0-9_]{1,39}){0,49}$/, 'comma-separated service codes').optional(),
    start_date: iso.optional(),
    end_date: iso.optional(),
    status: z.string().regex(/^(open|closed)(,(open|closed))?$/, 'open, closed or both').optional(),
    jurisdiction_id: z.string().max(100).optional(),
  })
  .strict();

/**
 * POST requests.json fields as the spec names them (form-encoded or JSON). The district is this service's
 * one required attribute (`attribute[district]`); media_url is not fetched (photos come through the
 * platform's own upload).
 */
export const open311CreateBody = z
  .object({
    service_code: categoryCodeSchema,
    description: z.string(),
    address_string: z.string().optional(),
    lat: z.union([z.string(), z.number()]).optional(),
    long: z.union([z.string(), z.number()]).optional(),
    'attribute[district]': z.string().optional(),
    attribute: z.object({ district: z.string().optional() }).optional(),
  })
  .passthrough();

export const open311ServiceSchema = z.object({
  service_code: z.string(),
  service_name: z.string(),
  description: z.string(),
  metadata: z.boolean(),
  type: z.enum(['realtime', 'batch', 'blackbox']),
  keywords: z.string(),
  group: z.string(),
});
export const open311RequestSchema = z.object({
  service_request_id: z.string(),
  status: z.enum(['open', 'closed']),
  status_notes: z.string(),
  service_name: z.string(),
  service_code: z.string(),
  description: z.string(),
  agency_responsible: z.string().nullable(),
  service_notice: z.null(),
  requested_datetime: z.string(),
  updated_datetime: z.string(),
  expected_datetime: z.string().nullable(),
  address: z.string(),
  address_id: z.null(),
  zipcode: z.null(),
  lat: z.number().nullable(),
  long: z.number().nullable(),
  media_url: z.string().nullable(),
});
export const open311CreatedSchema = z.array(z.object({ service_request_id: z.string(), service_notice: z.null(), account_id: z.null() }));

/**
 * An error as GeoReport v2 has it: an array of {code, description}, `code` being the HTTP status. Every error
 * under /open311/v2 takes this shape (the platform's own API keeps {error:{code,message,details}}).
 */
export const open311ErrorSchema = z.array(z.object({ code: z.number().int(), description: z.string() })).min(1);
export type Open311Error = z.infer<typeof open311ErrorSchema>;
