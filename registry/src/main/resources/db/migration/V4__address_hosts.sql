-- The hosts under a box's name that carry its addresses ("@" for the name itself, "mx" for its mail
-- exchanger), as last published: the next publication removes the addresses of hosts it no longer names.
CREATE TABLE address_hosts (
    box_id VARCHAR(52) NOT NULL REFERENCES boxes (id),
    host VARCHAR(255) NOT NULL,
    PRIMARY KEY (box_id, host)
);
-- Boxes that published addresses before hosts could be named had them on the name itself.
INSERT INTO address_hosts (box_id, host) SELECT DISTINCT box_id, '@' FROM addresses;
