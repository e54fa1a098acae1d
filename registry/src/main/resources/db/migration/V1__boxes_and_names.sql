-- A box is known by its public key (Ed25519, X.509 SubjectPublicKeyInfo, base64), made at pairing;
-- its id is derived from that key. last_signed is the newest request time the box signed: a request
-- must be newer, so none can be replayed.
CREATE TABLE boxes (
    id VARCHAR(52) NOT NULL PRIMARY KEY,
    public_key VARCHAR(200) NOT NULL,
    created TIMESTAMP NOT NULL,
    last_signed BIGINT NOT NULL
);

-- One name per box, one box per name.
CREATE TABLE names (
    name VARCHAR(32) NOT NULL PRIMARY KEY,
    box_id VARCHAR(52) NOT NULL UNIQUE REFERENCES boxes (id),
    claimed TIMESTAMP NOT NULL
);

-- The box's public addresses, as last published.
CREATE TABLE addresses (
    box_id VARCHAR(52) NOT NULL REFERENCES boxes (id),
    address VARCHAR(45) NOT NULL,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (box_id, address)
);
