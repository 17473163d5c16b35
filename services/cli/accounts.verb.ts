import { WalkoutError } from '../../libs/contracts/index.ts';
import { systemClock } from '../../libs/clock/clock.ts';
import { loadDatabaseConfig, openDatabase } from '../../libs/db/index.ts';
import { redactedUrl } from '../../libs/db/db.config.ts';
import { issueAccountToken } from '../../libs/accounts/accounts.repository.ts';
import { report, type Verb } from '../../libs/cli/verb.ts';

/**
 * `walkout accounts token <account>`: what an operator (or whatever signs shoppers in) runs to give
 * an account its bearer token for the shopper app API. The account is made when it is new; a token
 * it had before stops working. The token is printed once: the database keeps only its hash.
 */

/** What an account id may be: what the bus schemas take as an id, and what is safe in a log line. */
const ACCOUNT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

const USAGE = `walkout accounts token <account-id> [--json]

Makes a new bearer token for the account (creating the account when it is new) on the database
WALKOUT_DATABASE_URL names, the one the shopper app API runs on, and prints it: the only time it
exists in the clear (the database keeps its SHA-256). An earlier token of the account stops
working. The app takes it as "Authorization: Bearer <token>".

  WALKOUT_DATABASE_URL  postgres://... or embedded:<folder>; an embedded database in memory is
                        refused (the token would be gone with this command)
  --json                print {"accountId", "token", "database"}`;

export const accountsTokenVerb: Verb = {
  name: 'accounts token',
  summary: 'Give an account a bearer token for the shopper app API (creating the account when new), printed once.',
  usage: USAGE,
  options: { json: { type: 'boolean' } },
  allowPositionals: true,
  async run({ values, positionals }) {
    if (positionals.length !== 1) throw new WalkoutError('USAGE', `walkout accounts token: give one account id\n\n${USAGE}`);
    const [accountId] = positionals;
    if (!ACCOUNT_ID.test(accountId))
      throw new WalkoutError('USAGE', `walkout accounts token: "${accountId}" is not an account id (a letter or digit, then up to 127 letters, digits, '.', '_', ':' or '-')`);
    const config = loadDatabaseConfig();
    if (config.kind === 'embedded' && !config.dataDir)
      throw new WalkoutError(
        'USAGE',
        'walkout accounts token: WALKOUT_DATABASE_URL names no lasting database (empty or "embedded" is one in memory, gone with this command); set it to the postgres://... or embedded:<folder> the app runs on',
      );
    const database = config.kind === 'postgres' ? `${redactedUrl(config.url)} schema ${config.schema}` : `embedded ${config.dataDir}`;
    const db = await openDatabase(config);
    try {
      const token = await issueAccountToken(db, accountId, systemClock.now());
      report(values.json === true, { accountId, token, database }, () =>
        [`account ${accountId} on ${database}: its new token (shown once; an earlier one no longer works)`, token].join('\n'),
      );
    } finally {
      await db.close();
    }
  },
};
