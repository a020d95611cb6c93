import { createDocument, type ZodOpenApiOperationObject, type ZodOpenApiPathsObject, type ZodOpenApiResponseObject } from 'zod-openapi';
import { SESSION_COOKIE } from '../../provider/configuration.js';
import { ADMIN_API_SCOPE } from '../../services/catalogue.js';
import type { Operation } from './operation.js';
import { problemSchema } from './problems.js';

const problemContent = { 'application/problem+json': { schema: problemSchema } };

/** The API's OpenAPI 3.1 document, made from the operations' own zod schemas (zod-openapi). */
export function openApiDocument(operations: readonly Operation[], issuer: string) {
  const paths: ZodOpenApiPathsObject = {};
  for (const op of operations) {
    const validated = !!(op.body || op.query);
    const responses: Record<string, ZodOpenApiResponseObject> = {};
    for (const [status, response] of Object.entries(op.responses)) {
      const failure = Number(status) >= 400;
      responses[status] = {
        description: response.description,
        ...(response.schema || failure ? { content: failure ? problemContent : { 'application/json': { schema: response.schema! } } } : {}),
      };
    }
    responses['401'] ??= { description: 'no token, an unknown or expired one, or no administrator’s session', content: problemContent };
    responses['403'] ??= { description: 'a token without the admin scope, or a session without the role or the second factor', content: problemContent };
    if (validated) responses['422'] ??= { description: 'refused field by field (errors); nothing changed', content: problemContent };
    if (op.body) responses['415'] ??= { description: `the body must be ${op.body.contentType}`, content: problemContent };
    responses['500'] ??= { description: 'an internal error, logged with the reference in detail', content: problemContent };
    const operation: ZodOpenApiOperationObject = {
      operationId: op.id,
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      tags: [op.tag],
      ...(op.params || op.query ? { requestParams: { ...(op.params ? { path: op.params } : {}), ...(op.query ? { query: op.query } : {}) } } : {}),
      ...(op.body ? { requestBody: { required: true, ...(op.body.description ? { description: op.body.description } : {}), content: { [op.body.contentType]: { schema: op.body.schema } } } } : {}),
      responses,
    };
    paths[op.path] = { ...paths[op.path], [op.method]: operation };
  }
  return createDocument({
    openapi: '3.1.0',
    info: {
      title: 'IAM Istruzione — API di amministrazione',
      version: '1',
      description:
        'What the admin console and `npm run admin` do, as JSON: the catalogue of services, initial access tokens for dynamic registration, keys, the audit log, the staff import. ' +
        'Authenticate with a bearer token from client_credentials of an admin client (scope admin), or with the console’s session of an administrator with two factors; ' +
        'with the session, a change must be sent as application/json (text/csv for the import). Errors are RFC 9457 problem details.',
    },
    servers: [{ url: `${issuer}/admin/api` }],
    security: [{ adminClient: [ADMIN_API_SCOPE] }, { adminSession: [] }],
    components: {
      securitySchemes: {
        adminClient: {
          type: 'oauth2',
          flows: { clientCredentials: { tokenUrl: `${issuer}/token`, scopes: { [ADMIN_API_SCOPE]: 'the admin API' } } },
        },
        adminSession: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'the SSO session of an administrator signed in to /admin with two factors' },
      },
    },
    paths,
  });
}
