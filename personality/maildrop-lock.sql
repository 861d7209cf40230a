-- The maildrop lease table for `maildrop_lock { backend = database }` (README "Running several
-- servers"). One row per maildrop held by a POP3 session (or `r2d2 maildir fix -p`) on any host:
-- taken in one INSERT ... ON DUPLICATE KEY UPDATE that only takes a free or expired row,
-- renewed every lease/3, deleted by its token when the session ends. Expiry is the database's
-- clock (UTC_TIMESTAMP), never a host's. Rows of crashed hosts simply expire; an expired row is
-- taken over by the next login, so the table holds at most one row per maildrop ever locked
-- recently and needs no cleaning (DELETE ... WHERE expires_at < UTC_TIMESTAMP() - INTERVAL 1 DAY
-- is harmless whenever you like).
--
-- Create it in the accounts database (or the one maildrop_lock's `database` section names):
--   mysql mail < personality/maildrop-lock.sql
CREATE TABLE IF NOT EXISTS r2d2_maildrop_lock (
  -- SHA-256 (hex) of the maildir's canonical path: every host must mount the maildirs at the same path.
  maildrop CHAR(64) CHARACTER SET ascii NOT NULL,
  -- The canonical path itself, for operators (cut at 1024 characters).
  path VARCHAR(1024) NOT NULL,
  -- 128 random bits: only the session holding it renews or deletes the row.
  token CHAR(32) CHARACTER SET ascii NOT NULL,
  -- The host (its host name) and `pid N thread N session N` on it.
  holder_host VARCHAR(255) NOT NULL,
  holder VARCHAR(255) NOT NULL,
  taken_at DATETIME(6) NOT NULL,
  expires_at DATETIME(6) NOT NULL,
  PRIMARY KEY (maildrop),
  UNIQUE KEY token (token)
) ENGINE=InnoDB;

-- The accounts user is often allowed SELECT only: give the leases a user of their own, allowed
-- to change this table and nothing else, and name it in a database section of its own:
--
--   CREATE USER 'r2d2_lock'@'10.0.0.%' IDENTIFIED BY '...';
--   GRANT SELECT, INSERT, UPDATE, DELETE ON mail.r2d2_maildrop_lock TO 'r2d2_lock'@'10.0.0.%';
--
--   database "locks" { hosts = { "db1:3306", "db2:3306" }  user = r2d2_lock  password_file = /etc/r2d2/lock-password  database = mail }
--   maildrop_lock { backend = database  lease = 30  database = locks }
--
-- (SELECT is needed too: the statements read the row they update.) On Galera every node has
-- the table; with a primary and an asynchronous replica, leases written just before a failover
-- can be lost, so a maildrop may then be opened twice: prefer Galera (3 nodes, or 2 and garbd).
