import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestActor, requireTenantId, tenantPermission } from '../access/index.js';
import { errorResponses, IdempotencyHeaders, idempotentErrors, NoContent, PageQuery, TenantParams } from '../http/schemas.js';
import type { BookingRouteDeps } from './booking-services.js';
import {
  AvailabilityQuery,
  AvailabilityResponse,
  ClosureCreate,
  ClosurePage,
  ClosureParams,
  ClosureSchema,
  DateHoursBody,
  DateHoursPage,
  DateHoursParams,
  DateHoursSchema,
  CustomerCreate,
  CustomerPage,
  CustomerPatch,
  CustomerSchema,
  IdParams,
  ServiceCreate,
  ServicePage,
  ServicePatch,
  ServiceSchema,
  SettingsPatch,
  SettingsSchema,
  StaffCreate,
  StaffDetail,
  StaffHoursBody,
  StaffPage,
  StaffPatch,
  StaffSchema,
  StaffServicesBody,
  TimeOffCreate,
  TimeOffPage,
  TimeOffParams,
  TimeOffSchema,
} from './booking.schemas.js';
import { Type } from '@fastify/type-provider-typebox';

const T = '/api/tenants/:tenantId';

/** Settings, services, staff (services, hours, time off), customers and availability of one tenant. */
export const bookingAdminRoutes: FastifyPluginAsyncTypebox<{ services: BookingRouteDeps }> = async (
  app,
  { services },
) => {
  const { booking } = services;
  const { settings, catalog, staff, customers, availability, closures } = booking;

  // Settings
  app.get(`${T}/settings`, {
    config: { access: tenantPermission('settings.read') },
    schema: { tags: ['settings'], operationId: 'getSettings', summary: "Get the tenant's booking settings", params: TenantParams, response: { 200: SettingsSchema } },
  }, async (request) => settings.get(request.params.tenantId));

  app.patch(`${T}/settings`, {
    config: { access: tenantPermission('settings.write') },
    schema: { tags: ['settings'], operationId: 'updateSettings', summary: "Change the tenant's booking settings", params: TenantParams, body: SettingsPatch, response: { 200: SettingsSchema } },
  }, async (request) => settings.update(request.params.tenantId, request.body));

  // Services
  app.get(`${T}/services`, {
    config: { access: tenantPermission('services.read') },
    schema: { tags: ['services'], operationId: 'listServices', summary: 'List the services of a tenant', params: TenantParams, querystring: PageQuery, response: { 200: ServicePage } },
  }, async (request) => catalog.list(request.params.tenantId, request.query));

  app.post(`${T}/services`, {
    config: { access: tenantPermission('services.create'), idempotent: true },
    schema: { tags: ['services'], operationId: 'createService', summary: 'Create a service', headers: IdempotencyHeaders, params: TenantParams, body: ServiceCreate, response: { ...idempotentErrors({ 409: ['conflict'] }), 201: ServiceSchema } },
  }, async (request, reply) => reply.code(201).send(await catalog.create(request.params.tenantId, request.body)));

  app.get(`${T}/services/:id`, {
    config: { access: tenantPermission('services.read') },
    schema: { tags: ['services'], operationId: 'getService', summary: 'Get a service', params: IdParams, response: { 200: ServiceSchema } },
  }, async (request) => catalog.get(request.params.tenantId, request.params.id));

  app.patch(`${T}/services/:id`, {
    config: { access: tenantPermission('services.write') },
    schema: { tags: ['services'], operationId: 'updateService', summary: 'Change a service', params: IdParams, body: ServicePatch, response: { ...errorResponses({ 409: ['conflict'] }), 200: ServiceSchema } },
  }, async (request) => catalog.update(request.params.tenantId, request.params.id, request.body));

  app.delete(`${T}/services/:id`, {
    config: { access: tenantPermission('services.delete') },
    schema: {
      tags: ['services'], operationId: 'deleteService', summary: 'Delete a service (deactivate it when reservations reference it)', response: { 204: NoContent, ...errorResponses({ 409: ['conflict'] }) },
      params: IdParams,
      description: 'Deletes the service, or only deactivates it when reservations reference it.',
    },
  }, async (request, reply) => {
    await catalog.remove(request.params.tenantId, request.params.id);
    return reply.code(204).send();
  });

  // Staff
  app.get(`${T}/staff`, {
    config: { access: tenantPermission('staff.read') },
    schema: { tags: ['staff'], operationId: 'listStaff', summary: 'List the staff members of a tenant', params: TenantParams, querystring: PageQuery, response: { 200: StaffPage } },
  }, async (request) => staff.list(request.params.tenantId, request.query));

  app.post(`${T}/staff`, {
    config: { access: tenantPermission('staff.create'), idempotent: true },
    schema: { tags: ['staff'], operationId: 'createStaff', summary: 'Create a staff member', headers: IdempotencyHeaders, params: TenantParams, body: StaffCreate, response: { ...idempotentErrors({ 409: ['duplicate_resource'] }), 201: StaffSchema } },
  }, async (request, reply) => reply.code(201).send(await staff.create(request.params.tenantId, request.body)));

  app.get(`${T}/staff/:id`, {
    config: { access: tenantPermission('staff.read') },
    schema: { tags: ['staff'], operationId: 'getStaff', summary: 'Get a staff member with their services and working hours', params: IdParams, response: { 200: StaffDetail } },
  }, async (request) => staff.get(request.params.tenantId, request.params.id));

  app.patch(`${T}/staff/:id`, {
    config: { access: tenantPermission('staff.write') },
    schema: { tags: ['staff'], operationId: 'updateStaff', summary: 'Change a staff member', params: IdParams, body: StaffPatch, response: { ...errorResponses({ 409: ['duplicate_resource'] }), 200: StaffSchema } },
  }, async (request) => staff.update(request.params.tenantId, request.params.id, request.body));

  app.delete(`${T}/staff/:id`, {
    config: { access: tenantPermission('staff.delete') },
    schema: {
      tags: ['staff'], operationId: 'deleteStaff', summary: 'Delete a staff member (deactivate them when reservations reference them)', response: { 204: NoContent, ...errorResponses({ 409: ['conflict'] }) },
      params: IdParams,
      description: 'Deletes the staff member, or only deactivates them when reservations reference them.',
    },
  }, async (request, reply) => {
    await staff.remove(request.params.tenantId, request.params.id);
    return reply.code(204).send();
  });

  app.put(`${T}/staff/:id/services`, {
    config: { access: tenantPermission('staff.write') },
    schema: { tags: ['staff'], operationId: 'setStaffServices', summary: 'Replace the services a staff member performs', params: IdParams, body: StaffServicesBody, response: { ...errorResponses({ 409: ['conflict'] }), 200: StaffServicesBody } },
  }, async (request) => staff.setServices(request.params.tenantId, request.params.id, request.body.serviceIds));

  app.put(`${T}/staff/:id/hours`, {
    config: { access: tenantPermission('availability.write') },
    schema: { tags: ['staff'], operationId: 'setStaffHours', summary: "Replace a staff member's weekly working hours", params: IdParams, body: StaffHoursBody, response: { 200: StaffHoursBody } },
  }, async (request) => staff.setHours(request.params.tenantId, request.params.id, request.body.hours));

  app.get(`${T}/staff/:id/time-off`, {
    config: { access: tenantPermission('staff.read') },
    schema: { tags: ['staff'], operationId: 'listTimeOff', summary: "List a staff member's time off", params: IdParams, querystring: PageQuery, response: { 200: TimeOffPage } },
  }, async (request) => staff.listTimeOff(request.params.tenantId, request.params.id, request.query));

  app.post(`${T}/staff/:id/time-off`, {
    config: { access: tenantPermission('availability.write'), idempotent: true },
    schema: { tags: ['staff'], operationId: 'addTimeOff', summary: 'Add time off for a staff member', headers: IdempotencyHeaders, params: IdParams, body: TimeOffCreate, response: { ...idempotentErrors({ 409: ['conflict'] }), 201: TimeOffSchema } },
  }, async (request, reply) => reply.code(201).send(await staff.addTimeOff(request.params.tenantId, request.params.id, request.body)));

  app.delete(`${T}/staff/:id/time-off/:timeOffId`, {
    config: { access: tenantPermission('availability.write') },
    schema: { tags: ['staff'], operationId: 'deleteTimeOff', summary: 'Delete a time-off entry', response: { 204: NoContent }, params: TimeOffParams },
  }, async (request, reply) => {
    await staff.removeTimeOff(request.params.tenantId, request.params.id, request.params.timeOffId);
    return reply.code(204).send();
  });

  // Per-date hours (extra or changed hours on one local date)
  app.get(`${T}/staff/:id/date-hours`, {
    config: { access: tenantPermission('staff.read') },
    schema: {
      tags: ['staff'], operationId: 'listStaffDateHours', summary: "List a staff member's per-date hours (up to 100 dates from `from` on)", params: IdParams,
      querystring: Type.Object({ from: Type.Optional(Type.String({ format: 'date' })) }, { additionalProperties: false }),
      response: { 200: DateHoursPage },
    },
  }, async (request) => staff.listDateHours(request.params.tenantId, request.params.id, request.query));

  app.put(`${T}/staff/:id/date-hours/:date`, {
    config: { access: tenantPermission('availability.write') },
    schema: { tags: ['staff'], operationId: 'setStaffDateHours', summary: "Replace a staff member's hours on one local date", params: DateHoursParams, body: DateHoursBody, response: { ...errorResponses({ 409: ['conflict'] }), 200: DateHoursSchema } },
  }, async (request) => staff.setDateHours(request.params.tenantId, request.params.id, request.params.date, request.body.hours));

  app.delete(`${T}/staff/:id/date-hours/:date`, {
    config: { access: tenantPermission('availability.write') },
    schema: { tags: ['staff'], operationId: 'deleteStaffDateHours', summary: 'Return one local date to the weekly hours', params: DateHoursParams, response: { 204: NoContent, ...errorResponses({ 409: ['conflict'] }) } },
  }, async (request, reply) => {
    await staff.setDateHours(request.params.tenantId, request.params.id, request.params.date, []);
    return reply.code(204).send();
  });

  // Tenant-wide closures (holidays)
  app.get(`${T}/closures`, {
    config: { access: tenantPermission('availability.read') },
    schema: { tags: ['availability'], operationId: 'listClosures', summary: "List the tenant's closures (holidays)", params: TenantParams, querystring: PageQuery, response: { 200: ClosurePage } },
  }, async (request) => closures.list(request.params.tenantId, request.query));

  app.post(`${T}/closures`, {
    config: { access: tenantPermission('availability.write'), idempotent: true },
    schema: { tags: ['availability'], operationId: 'addClosure', summary: 'Close the whole tenant for a time (no staff member is bookable)', headers: IdempotencyHeaders, params: TenantParams, body: ClosureCreate, response: { ...idempotentErrors({}), 201: ClosureSchema } },
  }, async (request, reply) => reply.code(201).send(await closures.add(request.params.tenantId, request.body)));

  app.delete(`${T}/closures/:closureId`, {
    config: { access: tenantPermission('availability.write') },
    schema: { tags: ['availability'], operationId: 'deleteClosure', summary: 'Delete a closure', params: ClosureParams, response: { 204: NoContent } },
  }, async (request, reply) => {
    await closures.remove(request.params.tenantId, request.params.closureId);
    return reply.code(204).send();
  });

  // Customers
  app.get(`${T}/customers`, {
    config: { access: tenantPermission('customers.read') },
    schema: { tags: ['customers'], operationId: 'listCustomers', summary: 'List the customers of a tenant', params: TenantParams, querystring: PageQuery, response: { 200: CustomerPage } },
  }, async (request) => customers.list(request.params.tenantId, request.query));

  app.post(`${T}/customers`, {
    config: { access: tenantPermission('customers.create'), idempotent: true },
    schema: { tags: ['customers'], operationId: 'createCustomer', summary: 'Create a customer record', headers: IdempotencyHeaders, params: TenantParams, body: CustomerCreate, response: { ...idempotentErrors({ 403: ['insufficient_permissions'], 409: ['duplicate_resource'] }), 201: CustomerSchema } },
  }, async (request, reply) => reply.code(201).send(await customers.create(requireTenantId(request.auth), requestActor(request), request.body)));

  app.get(`${T}/customers/:id`, {
    config: { access: tenantPermission('customers.read') },
    schema: { tags: ['customers'], operationId: 'getCustomer', summary: 'Get a customer record', params: IdParams, response: { 200: CustomerSchema } },
  }, async (request) => customers.get(request.params.tenantId, request.params.id));

  app.patch(`${T}/customers/:id`, {
    config: { access: tenantPermission('customers.write') },
    schema: { tags: ['customers'], operationId: 'updateCustomer', summary: 'Change a customer record', params: IdParams, body: CustomerPatch, response: { ...errorResponses({ 403: ['insufficient_permissions'], 409: ['duplicate_resource'] }), 200: CustomerSchema } },
  }, async (request) => customers.update(requireTenantId(request.auth), requestActor(request), request.params.id, request.body));

  // Availability inside the tenant (members; inactive services answer with no slots)
  app.get(`${T}/availability`, {
    config: { access: tenantPermission('availability.read'), rateLimit: 'availability' },
    schema: { tags: ['availability'], operationId: 'getAvailability', summary: 'Bookable slots of a service in a time range (members)', params: TenantParams, querystring: AvailabilityQuery, response: { 200: AvailabilityResponse } },
  }, async (request) => availability.slots(request.params.tenantId, request.query));
};
