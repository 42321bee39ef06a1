import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { requestActor, SUPERADMIN } from '../access/index.js';
import { errorResponses } from '../auth/email-verification.schemas.js';
import type { UserAdminService } from './user-admin.service.js';
import { AdminUser, AdminUserPage, DisableBody, EnableBody, UserListQuery, UserParams } from './user-admin.schemas.js';

/** What these routes use of the app's services. */
export interface UserAdminRouteDeps {
  readonly userAdmin: UserAdminService;
}

/** /api/admin/users: platform user administration (superadmins only, every request audited). */
export const userAdminRoutes: FastifyPluginAsyncTypebox<{ services: UserAdminRouteDeps }> = async (app, { services }) => {
  const { userAdmin } = services;

  app.get('/api/admin/users', {
    config: { access: SUPERADMIN },
    schema: {
      tags: ['admin'],
      operationId: 'listUsers',
      summary: 'List accounts, filtered by email prefix and status',
      querystring: UserListQuery,
      response: { 200: AdminUserPage, ...errorResponses({ 400: ['validation_error'] }) },
    },
  }, async (request) => userAdmin.list(request.query));

  app.post('/api/admin/users/:userId/disable', {
    config: { access: SUPERADMIN },
    schema: {
      tags: ['admin'],
      operationId: 'disableUser',
      summary: 'Disable an account: no login, its sessions end on every instance',
      params: UserParams,
      body: DisableBody,
      response: { 200: AdminUser, ...errorResponses({ 400: ['validation_error'], 404: ['not_found'], 422: ['invalid_state'] }) },
    },
  }, async (request) => userAdmin.disable(requestActor(request), request.params.userId, request.body.reason));

  app.post('/api/admin/users/:userId/enable', {
    config: { access: SUPERADMIN },
    schema: {
      tags: ['admin'],
      operationId: 'enableUser',
      summary: 'Re-enable a disabled account',
      params: UserParams,
      body: EnableBody,
      response: { 200: AdminUser, ...errorResponses({ 400: ['validation_error'], 404: ['not_found'], 422: ['invalid_state'] }) },
    },
  }, async (request) => userAdmin.enable(requestActor(request), request.params.userId, request.body.reason));
};
