-- The accounts table the example personality's queries expect (personality/c11n):
--   maildrop_query_format_string = "SELECT maildir FROM mailbox WHERE username = %u AND password = SHA2(%p, 256) AND active = 1"
-- Passwords are stored as SHA2(password, 256) in hex. The tests and the bench create it too.
-- VARCHAR(255): room for the {SCHEME} hashes r2d2 verifies itself (README "Password hashes"),
-- e.g. {ARGON2ID}$argon2id$... written by a rehash (passwords.rehash_to).
CREATE TABLE IF NOT EXISTS mailbox (
  username VARCHAR(255) NOT NULL PRIMARY KEY,
  password VARCHAR(255) NOT NULL,
  maildir VARCHAR(1024) NOT NULL,
  quota VARCHAR(64) NULL,
  active TINYINT NOT NULL DEFAULT 1
)
