CREATE TABLE `zone_counts` (
	`zone` text PRIMARY KEY NOT NULL,
	`count` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `zone_presence` (
	`zone` text NOT NULL,
	`plate` text NOT NULL,
	`entered_at` integer NOT NULL,
	`lane_id` text,
	`event_id` integer,
	PRIMARY KEY(`zone`, `plate`)
);
--> statement-breakpoint
ALTER TABLE `list_entries` ADD `max_visits` integer;--> statement-breakpoint
ALTER TABLE `list_entries` ADD `visits_used` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `list_entries` ADD `lanes` text;--> statement-breakpoint
ALTER TABLE `list_entries` ADD `card_number` integer;--> statement-breakpoint
ALTER TABLE `lists` ADD `priority` integer;