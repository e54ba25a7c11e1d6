-- The widget's look and behaviour per site (`WidgetSettings`): colour, corner, button text,
-- opening by itself after a delay. Served to the widget with the site's language, zone and hours.
ALTER TABLE sites ADD COLUMN widget jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(widget) = 'object');
