-- The SIP final response the carrier reported for an attempt (486 busy, 480 no answer, 200
-- answered…), for the callback's journey in the console; NULL when it gave none (an attempt the
-- flow ended itself, an older build's). Additive: an older build writes no code and reads none.
ALTER TABLE attempts ADD COLUMN sip_code integer;
