import t from 'tap';
import { bindParams, compileQuery } from '../../src/accounts/query-format';

t.test('each substitution becomes one placeholder, quoted or not', async (t) => {
  const q = compileQuery("SELECT maildir FROM m WHERE u = '%u' AND p = SHA2(%p, 256) AND d = \"%d\" AND l = %l AND ip <> %r");
  t.equal(q.sql, 'SELECT maildir FROM m WHERE u = ? AND p = SHA2(?, 256) AND d = ? AND l = ? AND ip <> ?');
  t.same(q.params, ['u', 'p', 'd', 'l', 'r']);
});

t.test('%% is a literal percent and binds nothing', async (t) => {
  const q = compileQuery("SELECT m FROM t WHERE n LIKE 'a%%' AND u = %u");
  t.equal(q.sql, "SELECT m FROM t WHERE n LIKE 'a%' AND u = ?");
  t.same(q.params, ['u']);
});

t.test('values are bound, never spliced', async (t) => {
  const q = compileQuery('SELECT m FROM t WHERE u = %u AND l = %l AND d = %d AND p = %p AND r = %r');
  const user = "x' OR '1'='1@evil.example";
  t.same(bindParams(q, { user, password: 'pw', peer: '127.0.0.1' }), [user, "x' OR '1'='1", 'evil.example', 'pw', '127.0.0.1']);
  t.notMatch(q.sql, /OR/);
  t.same(bindParams(q, { user: 'plain', password: '', peer: '::1' }), ['plain', 'plain', '', '', '::1']);
});
