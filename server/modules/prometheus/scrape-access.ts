// Who may scrape /metrics: metrics.scrapeAllow (addresses), metrics.scrapeToken (bearer). With
// neither set only loopback may; a token alone admits any address that presents it. Answers are
// plain text, as a scraper shows them, not the API's JSON envelope.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AllowList, LOOPBACK } from '../../../lib/cidr.js';
import type { ManagerConfig } from '../../config.js';

export type ScrapeCheck = (req: FastifyRequest, reply: FastifyReply) => Promise<void>;

// Hashing both sides first gives equal lengths, so the comparison time says nothing of the token.
const digest = (s: string) => createHash('sha256').update(s).digest();

export function scrapeCheck(config: ManagerConfig['metrics']): ScrapeCheck {
  const token = config.scrapeToken;
  const allow = config.scrapeAllow.length > 0 ? AllowList.parse(config.scrapeAllow, 'metrics.scrapeAllow')
    : token ? null : AllowList.parse(LOOPBACK, 'loopback');
  const expected = digest(`Bearer ${token}`);
  return async (req, reply) => {
    if (allow && !allow.allows(req.ip)) {
      return reply.code(403).type('text/plain; charset=utf-8').send(`address ${req.ip} may not scrape /metrics (metrics.scrapeAllow)\n`);
    }
    if (token && !timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer').type('text/plain; charset=utf-8')
        .send('missing or wrong scrape token: send Authorization: Bearer <metrics.scrapeToken>\n');
    }
  };
}
