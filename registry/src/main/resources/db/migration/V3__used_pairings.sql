-- Pairing channels a box closed once paired: a pairing code works once, across restarts too.
CREATE TABLE used_pairings (
    channel CHAR(32) NOT NULL PRIMARY KEY,
    used_at TIMESTAMP NOT NULL
);
