import { Type } from '@fastify/type-provider-typebox';
import { Uuid } from '../http/schemas.js';

/** Wire schemas of calendar feeds. */
export const FeedOwnerParams = Type.Object({ tenantId: Type.String({ maxLength: 64 }), id: Uuid }, { additionalProperties: false });

export const FeedFileParams = Type.Object(
  { file: Type.String({ minLength: 1, maxLength: 128, description: 'the feed token followed by .ics, as issued' }) },
  { additionalProperties: false },
);

export const CalendarFeedSchema = Type.Object(
  {
    url: Type.String({ description: 'Subscribe a calendar client to this URL. Shown once; it is the credential, keep it private.' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { examples: [{ url: 'https://book.example.com/api/public/calendar/cal_0b8c5f0e-2d7e-4b8e-9f0a-3c1d2e4f5a6b.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.ics', createdAt: '2026-12-01T09:00:00.000Z' }] },
);

export const CalendarBody = Type.String({ description: 'text/calendar (RFC 5545): the next 90 days, at most 500 events' });
