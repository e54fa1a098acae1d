-- What each box last published beyond its addresses (MX, SPF, DKIM, DMARC, SRV, ACME challenges...),
-- so the next publication removes the record sets it no longer names.
CREATE TABLE records (
    box_id VARCHAR(52) NOT NULL REFERENCES boxes (id),
    owner VARCHAR(255) NOT NULL,
    type VARCHAR(10) NOT NULL,
    data VARCHAR(2100) NOT NULL
);
CREATE INDEX records_by_box ON records (box_id);
