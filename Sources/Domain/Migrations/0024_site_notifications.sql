-- What a site's owner chose to be told (`NotificationSettings`, set in the cabinet): each
-- notification event by SMS and by e-mail, the daily and the weekly report. Kept as opt-outs,
-- so an event added later is on until its owner turns it off.
ALTER TABLE sites ADD COLUMN notifications jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(notifications) = 'object');
