import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { ConfigError } from '../domain/errors.js';
import { ApiProblem } from './problem.js';

/**
 * Bearer-token guard of the control endpoints. The token comes from configuration
 * (TRADEKERNEL_API_TOKEN); the presented token is compared with it in constant time, on SHA-256
 * digests so that the comparison does not even reveal the configured token's length. Without a
 * configured token the control endpoints answer 403 and say how to enable them.
 */

export const TOKEN_ENV = 'TRADEKERNEL_API_TOKEN';
export const MIN_TOKEN_LENGTH = 24;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/** Checks a configured token; returns undefined for "not configured" (empty counts as not set). */
export function checkToken(token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError(
      `${TOKEN_ENV} is too weak: it must be at least ${MIN_TOKEN_LENGTH} characters without spaces`,
      `generate one with: node -e "console.log(require('node:crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
  return token;
}

export type Guard = (request: FastifyRequest) => Promise<void>;

export function bearerGuard(token: string | undefined): Guard {
  const expected = token === undefined ? undefined : digest(token);
  return async (request) => {
    if (!expected) {
      throw new ApiProblem(
        403,
        'control-disabled',
        'Control endpoints are disabled',
        `no API token is configured: set ${TOKEN_ENV} (at least ${MIN_TOKEN_LENGTH} characters) and restart \`tradekernel serve\`, then send it as "Authorization: Bearer <token>"`,
      );
    }
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer +([^\s]+) *$/i.exec(header) : null;
    if (!match) {
      throw new ApiProblem(
        401,
        'unauthorized',
        'Unauthorized',
        'this endpoint needs "Authorization: Bearer <token>" with the configured API token',
        {},
        { 'www-authenticate': 'Bearer realm="tradekernel"' },
      );
    }
    if (!timingSafeEqual(digest(match[1]!), expected)) {
      throw new ApiProblem(
        401,
        'unauthorized',
        'Unauthorized',
        'the bearer token is not the configured API token',
        {},
        { 'www-authenticate': 'Bearer realm="tradekernel", error="invalid_token"' },
      );
    }
  };
}
