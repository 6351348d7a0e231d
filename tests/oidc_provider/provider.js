// The OpenID provider Vigie's single sign-on tests run on 127.0.0.1 (node-oidc-provider with
// its development interactions: a login form that takes any name and password, then a consent
// page). The test gives its client as JSON in VIGIE_TEST_OIDC, and its accounts in a JSON
// file read at every sign-in (so a test can move someone to another group); the provider
// listens on a free port, prints {"issuer": ...} on one line, and stops when its standard
// input closes (the test ended, or died).
import fs from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const setup = JSON.parse(process.env.VIGIE_TEST_OIDC || '{}');
const accounts = () => JSON.parse(fs.readFileSync(setup.accounts_file, 'utf8'));

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: setup.client_id,
      client_secret: setup.client_secret,
      redirect_uris: setup.redirect_uris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // The groups claim is what Vigie maps to its roles (a Keycloak "groups" mapper does the same).
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'locale'],
      groups: ['groups'],
    },
    // Every client must send a PKCE challenge, as Vigie does.
    pkce: { required: () => true },
    cookies: { keys: ['vigie-test-provider-cookie-key'] },
    async findAccount(_ctx, id) {
      // The login typed on the provider's form names the account; an unknown one has no group.
      const known = accounts()[id] || { email: `${id}@example.org`, name: id, groups: [] };
      return {
        accountId: id,
        async claims() {
          return {
            sub: id,
            email: known.email,
            email_verified: known.email_verified ?? true,
            name: known.name,
            groups: known.groups,
          };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
