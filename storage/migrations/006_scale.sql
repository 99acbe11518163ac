-- 006: a board that stays fast at a million threads. The department page lists the latest
-- public threads of every expert (the board index leads with the expert); the median answer
-- time and the daily caps look at recent threads only; a thread's SMS are found by thread, and
-- a recipient's latest SMS (its concatenation reference) by recipient.

CREATE INDEX threads_recent ON threads (public, hidden, last_message_at);
CREATE INDEX threads_created ON threads (created_at);
CREATE INDEX outbox_thread ON outbox (thread_id);
CREATE INDEX outbox_recipient ON outbox (recipient, id);
